import pytest
import torch
from torch import nn

from ssl_ce.config import ModelConfig
from ssl_ce.models import MODELS, build_model
from ssl_ce.models.alexnet import ChannelWiseFC


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv(cin: int, cout: int) -> int:
    return cin * cout * 16  # 4x4, bias-free


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("predict", ["centre", "full"])
def test_output_shapes_and_features(name: str, predict: str) -> None:
    size = MODELS.get(name).input_size
    out_size = size // 2 if predict == "centre" else size
    generator, discriminator = build_model(ModelConfig(name=name, bottleneck=64), out_size)
    x = torch.randn(2, 3, size, size)
    pred = generator(x)
    assert pred.shape == (2, 3, out_size, out_size)
    assert pred.abs().max() <= 1.0  # tanh output, same range as the images
    assert discriminator(pred).shape == (2,)
    feats = generator.features(x)
    assert feats.shape == (2, generator.encoder.num_features)


def test_paper_128_has_the_papers_layers_exactly() -> None:
    generator, discriminator = build_model(ModelConfig(name="paper-128"), 64)
    enc = [(3, 64), (64, 64), (64, 128), (128, 256), (256, 512), (512, 4000)]
    dec = [(4000, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    bn = 2 * (64 + 128 + 256 + 512 + 4000) + 2 * (512 + 256 + 128 + 64)
    assert _params(generator) == sum(_conv(a, b) for a, b in enc + dec) + bn == 71_124_544
    disc = [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert _params(discriminator) == sum(_conv(a, b) for a, b in disc) + 2 * (128 + 256 + 512) == 2_765_568
    convs = [m for m in generator.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert all(m.bias is None and m.kernel_size == (4, 4) for m in convs)
    assert generator.encoder.num_features == 4000
    first_bn = next(i for i, m in enumerate(generator.encoder.net) if isinstance(m, nn.BatchNorm2d))
    assert first_bn == 3  # conv, LeakyReLU, conv, BN: no BN after the first conv
    leaky = [m.negative_slope for m in generator.encoder.modules() if isinstance(m, nn.LeakyReLU)]
    assert leaky == [0.2] * 6


def test_width_mult_scales_the_generator_convs_only() -> None:
    generator, discriminator = build_model(ModelConfig(name="small-32", width_mult=1.5), 16)
    convs = [(m.in_channels, m.out_channels) for m in generator.modules()
             if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert convs == [(3, 96), (96, 192), (192, 384), (384, 1024), (1024, 384), (384, 192), (192, 3)]
    _, plain_discriminator = build_model(ModelConfig(name="small-32"), 16)
    assert _params(discriminator) == _params(plain_discriminator)


def test_dcgan_init_is_normal_0_002() -> None:
    generator, _ = build_model(ModelConfig(name="paper-128"), 64)
    weight = generator.encoder.net[-3].weight
    assert abs(weight.mean().item()) < 1e-3 and weight.std().item() == pytest.approx(0.02, rel=0.02)


def test_channel_wise_fc_connects_each_map_only_to_itself() -> None:
    layer = ChannelWiseFC(channels=4, side=3)
    assert _params(layer) == 4 * 9 * 9 + 4 * 9
    x = torch.randn(1, 4, 3, 3, requires_grad=True)
    layer(x)[0, 2].sum().backward()
    touched = x.grad[0].abs().sum(dim=(1, 2)) > 0
    assert touched.tolist() == [False, False, True, False]  # only channel 2 feeds channel 2
    assert (x.grad[0, 2] != 0).all()  # ... from every spatial location


def test_alexnet_channel_wise_fc_is_far_cheaper_than_a_full_fc() -> None:
    g_cw, _ = build_model(ModelConfig(name="alexnet-227"), 113)
    assert _params(g_cw.bridge.net[0]) == 256 * 36 * 36 + 256 * 36
    assert g_cw.encoder.num_features == 256 * 6 * 6


def test_alexnet_pool_free_replaces_pooling_with_strided_convs() -> None:
    generator, _ = build_model(ModelConfig(name="alexnet-227", pool_free=True), 113)
    layers = list(generator.encoder.modules())
    assert not any(isinstance(m, nn.MaxPool2d) for m in layers)
    strided = [m for m in layers if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    assert [m.kernel_size for m in strided] == [(3, 3)] * 3
    assert generator.encoder(torch.randn(1, 3, 227, 227)).shape == (1, 256, 6, 6)


@pytest.mark.parametrize("upsample", ["resize-conv", "pixel-shuffle"])
def test_each_upsampling_doubles_without_transposed_convs_and_starts_free_of_checkerboard(upsample: str) -> None:
    generator, _ = build_model(ModelConfig(name="small-32", bottleneck=64, upsample=upsample), 32)
    assert not any(isinstance(m, nn.ConvTranspose2d) and m.stride == (2, 2) for m in generator.modules())
    assert generator(torch.randn(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    last = generator.decoder.net[-2]  # the last doubling, before tanh: its output is a nearest-neighbour 2x
    cin = next(m for m in last.modules() if isinstance(m, nn.Conv2d)).in_channels
    x = torch.randn(1, cin, 8, 8)
    y = last(x)
    assert y.shape == (1, 3, 16, 16)
    blocks = y.unflatten(2, (8, 2)).unflatten(4, (8, 2))  # (1, 3, 8, 2, 8, 2)
    if upsample == "pixel-shuffle":  # ICNR: the 4 sub-pixels of every 2x2 block start equal
        assert torch.allclose(blocks, blocks[:, :, :, :1, :, :1].expand_as(blocks))
    assert y.std() > 0


def test_spectral_norm_discriminator_has_unit_spectral_norms_and_no_batch_norm() -> None:
    _, discriminator = build_model(ModelConfig(name="small-32", bottleneck=64, d_norm="spectral"), 16)
    _, plain = build_model(ModelConfig(name="small-32", bottleneck=64), 16)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in discriminator.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    discriminator.train()
    for _ in range(30):  # the power iteration converges over training forwards
        discriminator(torch.randn(4, 3, 16, 16))
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    sigmas = [torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item() for m in convs]
    assert len(sigmas) == sum(isinstance(m, nn.Conv2d) for m in plain.modules())
    assert all(s == pytest.approx(1.0, abs=0.05) for s in sigmas)
    raw = [torch.linalg.matrix_norm(m.parametrizations.weight.original.detach().flatten(1), ord=2).item()
           for m in convs]
    assert max(abs(r - 1.0) for r in raw) > 0.2  # the raw weights are not unit: the division does it

