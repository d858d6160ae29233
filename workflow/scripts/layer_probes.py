from graphattn.job import job

with job(snakemake):
    import torch

    from graphattn.atomic import write_text
    from graphattn.probes.layers import layer_probes

    torch.set_num_threads(snakemake.threads)
    table = layer_probes(snakemake.input[0], dict(snakemake.params.probes), list(snakemake.params.seeds))
    write_text(snakemake.output[0], table.to_csv(index=False, float_format="%.4f"))
