"""The cost model against the real implementations: parameter counts of meta-device transformers models of the
real architectures, and ZeRO model-state memory against DeepSpeed's own estimators."""

import pytest
import torch
import transformers

from xstilts.costs import Architecture, predict_hours, train_hours, zero_model_state_bytes

ARCHS = {  # the real configs' shapes (hub config.json of each model)
    "xlm-roberta-large": dict(model_type="xlm-roberta", hidden=1024, layers=24, heads=16, ffn=4096, vocab=250002),
    "xlm-roberta-xl": dict(model_type="xlm-roberta-xl", hidden=2560, layers=36, heads=32, ffn=10240, vocab=250880),
    "xlm-roberta-xxl": dict(model_type="xlm-roberta-xl", hidden=4096, layers=48, heads=32, ffn=16384, vocab=250880),
    "mt5-xl-encoder": dict(model_type="mt5", hidden=2048, layers=24, heads=32, ffn=5120, vocab=250112, head_dim=64),
}


def meta_model(arch: Architecture):
    if arch.is_t5:
        config = transformers.MT5Config(d_model=arch.hidden, num_layers=arch.layers, num_heads=arch.heads,
                                        d_ff=arch.ffn, d_kv=arch.head_dim, vocab_size=arch.vocab,
                                        feed_forward_proj="gated-gelu", tie_word_embeddings=False)
        cls, kwargs = transformers.MT5EncoderModel, {}
    else:
        xl = arch.model_type == "xlm-roberta-xl"
        config = (transformers.XLMRobertaXLConfig if xl else transformers.XLMRobertaConfig)(
            hidden_size=arch.hidden, num_hidden_layers=arch.layers, num_attention_heads=arch.heads,
            intermediate_size=arch.ffn, vocab_size=arch.vocab, max_position_embeddings=arch.positions,
            type_vocab_size=1)
        cls = transformers.XLMRobertaXLModel if xl else transformers.XLMRobertaModel
        kwargs = {"add_pooling_layer": False}
    with torch.device("meta"):
        return cls(config, **kwargs)


@pytest.mark.parametrize("name", ARCHS)
def test_parameter_count_matches_transformers(name):
    arch = Architecture.from_config(ARCHS[name])
    assert arch.total_params() == sum(p.numel() for p in meta_model(arch).parameters())


def test_published_sizes():
    billions = {n: Architecture.from_config(a).total_params() / 1e9 for n, a in ARCHS.items()}
    assert billions["xlm-roberta-large"] == pytest.approx(0.56, abs=0.01)
    assert billions["xlm-roberta-xl"] == pytest.approx(3.5, abs=0.05)
    assert billions["xlm-roberta-xxl"] == pytest.approx(10.7, abs=0.05)


@pytest.mark.parametrize("name", ARCHS)
@pytest.mark.parametrize("gpus_per_node, nodes", [(1, 1), (4, 1), (8, 2)])
@pytest.mark.parametrize("stage, offload", [(2, False), (2, True), (3, False), (3, True)])
def test_zero_memory_equals_deepspeed_estimators(name, gpus_per_node, nodes, stage, offload):
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    arch = Architecture.from_config(ARCHS[name])
    ours = zero_model_state_bytes(arch, stage, gpus_per_node, nodes, offload)
    if stage == 2:
        theirs = estimate_zero2_model_states_mem_needs(arch.total_params(), gpus_per_node, nodes, offload)
    else:
        theirs = estimate_zero3_model_states_mem_needs(arch.total_params(), arch.largest_layer_params(),
                                                       gpus_per_node, nodes, offload, offload)[:2]
    assert ours == tuple(theirs)


def test_checkpointing_cuts_activation_memory_and_time_scales_linearly():
    arch = Architecture.from_config(ARCHS["xlm-roberta-xl"])
    assert arch.activation_bytes(8, 512, checkpointing=True) < arch.activation_bytes(8, 512, checkpointing=False) / 5
    one = train_hours(arch, 1000, 1, 256, gpus=1, peak_tflops=989, mfu=0.4)
    assert train_hours(arch, 2000, 1, 256, gpus=2, peak_tflops=989, mfu=0.4) == pytest.approx(one)
    assert predict_hours(arch, 1000, 256, 989, 0.4) == pytest.approx(one / 3)
