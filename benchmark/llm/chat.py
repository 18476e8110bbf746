"""Prompts in the form an instruction-tuned model was trained on: its own chat template.

``chat_frame(tokenizer)`` renders the tokenizer's template around a placeholder user message and
splits it there, giving the text that goes before the user's words and the text after them up to
where the assistant's answer starts. Prompt builders that assemble prompts from pieces (soft
tokens, cached prefixes) wrap their pieces in the two halves; whole-string prompts use
``chat_prompt``. A tokenizer without a template (the test fixture, base models) gets ``None`` /
the plain text, so the same code serves both.
"""

from __future__ import annotations

from dataclasses import dataclass

_MARK = "\x00USER-MESSAGE\x00"


@dataclass(frozen=True)
class ChatFrame:
    """Text before the user's message and after it, up to the start of the answer."""

    head: str
    tail: str

    def wrap(self, message: str) -> str:
        return self.head + message + self.tail


def chat_frame(tokenizer) -> ChatFrame | None:
    """The tokenizer's chat template split around one user message, or None without one."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    text = tokenizer.apply_chat_template([{"role": "user", "content": _MARK}], tokenize=False,
                                         add_generation_prompt=True)
    if not isinstance(text, str) or text.count(_MARK) != 1:
        return None
    head, tail = text.split(_MARK)
    return ChatFrame(head, tail)


def chat_prompt(tokenizer, message: str) -> str:
    """``message`` as the user's turn of the tokenizer's chat template (plain without one)."""
    frame = chat_frame(tokenizer)
    return message if frame is None else frame.wrap(message)


def describe_format(tokenizer) -> str:
    """For results: which prompt format a generating model used."""
    return "tokenizer chat template" if chat_frame(tokenizer) is not None else "plain text"
