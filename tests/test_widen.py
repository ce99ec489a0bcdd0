"""A wider T-Net grown from a narrower trained one (models/widen.py): the same trimap at step 0, then it learns."""
import pytest
import torch

from livematte.models import create_model, save_weights
from livematte.models.shm import SHM, SHMConfig
from livematte.models.widen import widen_tnet_state
from livematte.training.train import load_start, step_loss


def _trained_like(model: SHM) -> SHM:
    """Random weights with non-trivial BatchNorm statistics, as a trained net has (the defaults would hide a
    channel carried to the wrong place)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


@pytest.mark.parametrize("narrow_width,wide_width", [(0.25, 0.5), (1.0, 1.5)])
def test_the_widened_tnet_gives_the_same_trimap(narrow_width, wide_width):
    narrow = _trained_like(SHM(SHMConfig(tnet_width=narrow_width, mnet_width=0.5)))
    wide = SHM(SHMConfig(tnet_width=wide_width, mnet_width=0.5)).eval()
    before = {k: v.clone() for k, v in wide.state_dict().items()}
    wide.load_state_dict(widen_tnet_state(narrow.state_dict(), wide.state_dict()))
    x = torch.rand(2, 3, 96, 160)
    with torch.no_grad():
        torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-5)
    # the new channels are not all zero: they keep the wide model's random init on their way in
    w = wide.state_dict()["tnet.enc4.0.block.0.0.weight"]
    n = narrow.state_dict()["tnet.enc4.0.block.0.0.weight"]
    assert torch.equal(w[n.shape[0]:], before["tnet.enc4.0.block.0.0.weight"][n.shape[0]:])


def test_narrower_tnets_of_another_shape_are_refused():
    narrow = SHM(SHMConfig(tnet_width=0.25, tnet_head_stride=4, mnet_width=0.5))
    wide = SHM(SHMConfig(tnet_width=0.5, mnet_width=0.5))
    with pytest.raises(ValueError):
        widen_tnet_state(narrow.state_dict(), wide.state_dict())


def test_a_wide_model_trains_from_shm_weights(tmp_path):
    narrow = _trained_like(create_model("shm", weights=None))
    save_weights(narrow, tmp_path / "shm.pt", "shm", half=False)
    wide = create_model("shm-wide", weights=None)
    assert load_start(wide, tmp_path / "shm.pt", "shm-wide") == []
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(wide.eval()(x)[2], narrow(x)[2], rtol=0, atol=1e-5)
    # one step: the zero weights that read the new channels receive gradient, so the new channels come into use
    alpha = torch.zeros(1, 1, 64, 96)
    alpha[..., 16:48, 30:60] = 1
    trimap = (alpha[:, 0] * 2).long()
    b = {"image": x, "fg": torch.rand(1, 3, 64, 96), "bg": torch.rand(1, 3, 64, 96), "alpha": alpha,
         "trimap": trimap}
    loss, _ = step_loss(wide.train(), "tnet", b)
    loss.backward()
    g = wide.tnet.head.weight.grad
    assert g[:, narrow.tnet.head.weight.shape[1]:].abs().sum() > 0
