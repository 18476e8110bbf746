"""Small Llama- and T5-architecture models built from a config (random init, no download).

The default sizes are chosen so the whole LLM suite trains and evaluates on 2 CPU cores in
minutes; a GPU user points the suite at a real checkpoint instead (README, "LLM backbones").
"""

from __future__ import annotations

from typing import Any

#: default small causal LM: Llama blocks (RoPE, RMSNorm, SwiGLU), tied input/output embeddings
SMALL_CAUSAL: dict[str, Any] = {"hidden_size": 128, "num_hidden_layers": 2,
                                "num_attention_heads": 4, "intermediate_size": 384,
                                "max_position_embeddings": 512}
#: default small seq2seq model: T5 blocks
SMALL_SEQ2SEQ: dict[str, Any] = {"d_model": 128, "num_layers": 2, "num_decoder_layers": 2,
                                 "num_heads": 4, "d_ff": 384, "d_kv": 32}


def build_causal_lm(vocab_size: int, *, pad_token_id: int = 0, bos_token_id: int = 1,
                    eos_token_id: int = 2, seed: int = 0, **size: Any):
    """A randomly initialised LlamaForCausalLM of the given size (defaults: ``SMALL_CAUSAL``)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab_size, pad_token_id=pad_token_id,
                      bos_token_id=bos_token_id, eos_token_id=eos_token_id,
                      tie_word_embeddings=True, **{**SMALL_CAUSAL, **size})
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg)


def build_seq2seq_lm(vocab_size: int, *, pad_token_id: int = 0, eos_token_id: int = 2,
                     seed: int = 0, **size: Any):
    """A randomly initialised T5ForConditionalGeneration (defaults: ``SMALL_SEQ2SEQ``)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    # decoder_start_token_id is a PretrainedConfig keyword the T5 model reads; the typed T5Config
    # signature of transformers 5 leaves it out
    cfg = T5Config(vocab_size=vocab_size, pad_token_id=pad_token_id, eos_token_id=eos_token_id,
                   decoder_start_token_id=pad_token_id,  # type: ignore[call-arg]
                   **{**SMALL_SEQ2SEQ, **size})
    torch.manual_seed(seed)
    return T5ForConditionalGeneration(cfg)
