import pytest
import torch

from graphattn.toy.muon import Muon, orthogonalise


def two_steps(optimiser_class, **kwargs) -> list[torch.Tensor]:
    """How far two steps move a tall and a wide matrix."""
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(128, 64)), torch.nn.Parameter(torch.randn(64, 96))]
    start = [p.detach().clone() for p in params]
    optimiser = optimiser_class(params, lr=0.01, weight_decay=0.1, **kwargs)
    for step in range(2):
        torch.manual_seed(10 + step)
        for p in params:
            p.grad = torch.randn_like(p)
        optimiser.step()
    return [p.detach() - s for p, s in zip(params, start)]


def test_two_steps_match_torch_muon_to_its_bfloat16_precision():
    ours = two_steps(Muon)
    torchs = two_steps(torch.optim.Muon, adjust_lr_fn="match_rms_adamw")
    plain = two_steps(Muon, nesterov=False)  # another update, for scale: the comparison can tell them apart
    for mine, theirs, other in zip(ours, torchs, plain):
        size = theirs.abs().max()
        # torch orthogonalises in bfloat16 (8 bits of mantissa): the moves agree to about 1%.
        assert (mine - theirs).abs().max() < 0.03 * size
        assert (other - theirs).abs().max() > 0.1 * size


def test_the_update_is_nearly_orthogonal_and_stays_float32():
    torch.manual_seed(1)
    for shape in [(128, 64), (64, 128), (64, 64)]:
        update = torch.randn(shape) * 5
        out = orthogonalise(update)
        assert out.dtype == torch.float32 and out.shape == update.shape
        singular = torch.linalg.svdvals(out)
        assert singular.min() > 0.5 and singular.max() < 1.5
        u, _, vh = torch.linalg.svd(update, full_matrices=False)
        exact = u @ vh
        cosine = (out * exact).sum() / (out.norm() * exact.norm())
        assert cosine > 0.95


def test_a_vector_parameter_is_refused_naming_its_shape():
    with pytest.raises(ValueError, match=r"2-D weight matrices.*\(64,\)"):
        Muon([torch.nn.Parameter(torch.zeros(64))])
