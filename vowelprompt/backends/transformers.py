"""Generate with a Hugging Face transformers model in this process: the backend that needs no server.

It runs anywhere torch does (CPU by default) and is what the tests and the CPU recipes use, with the bundled
``smollm2-135m`` alias (see :mod:`vowelprompt.models`). Conversations are rendered with the model's own chat
template, sorted by length and generated in batches, left-padded because a decoder-only model continues
from the last position of each row; results come back in input order.

The answer is still always a label of the set when a ``structure`` names its choices (what ``predict`` asks
for unless ``--no-constrained``): the model reasons freely, its text is cut where it starts answering (its
first ``<answer>`` or ``</think>``, or the ``"label"`` key in JSON; all of it, capped to
``MAX_REASONING_CHARS``, if it never does), and every label is scored as the continuation of the prompt and
that reasoning — the sum of the log-probabilities of ``label</answer>`` (or ``label"}``), the
multiple-choice method of lm-evaluation-harness. The answer is the best-scoring label (greedy) or one drawn
from the softmax of the scores at the sampling temperature, and the completion returned is the well-formed
``<think>reasoning</think><answer>label</answer>`` (or JSON object), which the parser reads as ``ok``;
:meth:`TransformersBackend.generate_scored` also returns the scores (``predict --distribution logprobs``)
and the model's own text. This costs one more prefill of prompt and reasoning (their key/value cache is
shared by the labels' few tokens), next to the hundreds of decoding steps of the reasoning. A structure
without choices is ignored.

torch and transformers are the ``llm`` extra, imported only when a backend is built.
"""

from __future__ import annotations

import copy
import os

from vowelprompt.backends import (
    Answer,
    Conversation,
    Sampling,
    Structure,
    structure_choices,
    structure_format,
)
from vowelprompt.backends.answers import answer_frame
from vowelprompt.errors import BackendError, ConfigError, MissingExtraError, one_line
from vowelprompt.models import quiet_transformers, resolve_model


class TransformersBackend:
    """A causal LM loaded with ``AutoModelForCausalLM``; raises :class:`BackendError` if it cannot be loaded.

    ``model`` is an alias (``"smollm2-135m"``), a local checkpoint folder or a Hub id. ``dtype`` is
    ``"auto"`` (the checkpoint's own) or a torch dtype name such as ``"bfloat16"``. ``batch_size``
    conversations are generated together.

    >>> backend = TransformersBackend("smollm2-135m")  # doctest: +SKIP
    >>> chat = [{"role": "user", "content": "Say hi."}]
    >>> backend.generate([chat], Sampling(max_new_tokens=8))  # doctest: +SKIP
    ['Hi! How can I help you today?']
    """

    name = "transformers"

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        dtype: str = "auto",
        batch_size: int = 8,
        trust_remote_code: bool = False,
    ):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be ≥ 1, got {batch_size}")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise MissingExtraError(exc.name or "transformers", "llm") from None
        if dtype != "auto" and not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ConfigError(f"unknown dtype {dtype!r}; use 'auto' or a torch dtype such as 'bfloat16'")
        self.model = model
        self.device = device
        self.batch_size = batch_size
        path = resolve_model(model)
        try:
            # The model first: for a folder that is not a checkpoint its error is the clearer one.
            with quiet_transformers():
                self._lm = AutoModelForCausalLM.from_pretrained(
                    path,
                    dtype=dtype if dtype == "auto" else getattr(torch, dtype),
                    trust_remote_code=trust_remote_code,
                )
                self._tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            self._lm.to(device).eval()
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            where = (
                "" if os.path.isdir(path) else " (not a local folder, so looked up on the Hugging Face Hub)"
            )
            raise BackendError(f"could not load model {model!r}{where}: {one_line(exc)}") from None
        # Models such as Llama ship no pad token; any token works, the attention mask hides the padding.
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token

    def constrains(self, structure) -> bool:
        """True when ``structure`` names its choices: the answer is then a scored label (module doc)."""
        return bool(structure_choices(structure))

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]:
        """One completion per conversation, in input order; a scored label answer if ``structure`` names
        its choices (see the module doc), else the free text.

        Greedy when ``sampling.temperature == 0``. Otherwise the global torch RNG is seeded with
        ``sampling.seed`` once per call, so the same conversations, sampling and batch size give the same
        outputs.
        """
        return [a.text for a in self.generate_scored(conversations, sampling, structure)]

    def generate_scored(
        self,
        conversations: list[Conversation],
        sampling: Sampling,
        structure: Structure | None = None,
        logprobs: bool = False,
    ) -> list[Answer]:
        """:meth:`generate`'s completions as :class:`Answer` objects: with a structure that names its choices,
        each carries every label's log-probability and the model's own text (``generated``). The scores are
        computed for the answer either way, so ``logprobs`` changes nothing here."""
        import torch

        tokenizer = self._tokenizer
        prompts = [
            tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
            for c in conversations
        ]
        texts = self._generate(prompts, sampling)
        choices = structure_choices(structure)
        if not choices:
            note = "the structure names no labels to score" if logprobs else ""
            return [Answer(text, note=note) for text in texts]
        answers = []
        for prompt, text in zip(prompts, texts):
            head, tails = answer_frame(text, structure_format(structure), choices)
            scores = self.score(prompt + head, [tails[c] for c in choices])
            if sampling.temperature == 0:
                pick = max(range(len(choices)), key=scores.__getitem__)
            else:  # drawn as constrained decoding would: from the scores' softmax at the temperature
                weights = torch.softmax(torch.tensor(scores, dtype=torch.float64) / sampling.temperature, 0)
                pick = int(torch.multinomial(weights, 1).item())
            label = choices[pick]
            answers.append(Answer(head + tails[label], dict(zip(choices, scores)), generated=text))
        return answers

    def score(self, prefix: str, continuations: list[str]) -> list[float]:
        """The log-probability of each continuation after ``prefix`` (text that already went through the chat
        template): the sum over its tokens, each given the prefix and the continuation's tokens before it.

        The prefix and each continuation are tokenised apart (the answer's tokens are the ones the model
        would write after the prefix's last tag). The prefix goes through the model once; its key/value
        cache is then copied for each continuation and all continuations go through together, so scoring
        costs about one prefill of the prompt, not one per label (on a CPU, a 1k-token prompt's prefill
        costs as much as ~100 decoding steps).
        """
        import torch

        tokenizer = self._tokenizer
        head = tokenizer(prefix, add_special_tokens=False)["input_ids"]
        tails = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        longest = max(len(t) for t in tails)
        # Right padding: the pads come after every real token, so they change no logit that is read.
        pad = tokenizer.pad_token_id
        rest = torch.tensor([t + [pad] * (longest - len(t)) for t in tails], device=self.device)
        with quiet_transformers(), torch.inference_mode():
            prefix_ids = torch.tensor([head], device=self.device)
            out = self._lm(input_ids=prefix_ids, use_cache=True, logits_to_keep=1)
            cache = out.past_key_values
            cache.batch_repeat_interleave(len(tails))
            # Only the logits that predict a continuation token: all of them would be rows × length ×
            # vocabulary floats (~200 MB a row for a 1k-token prompt).
            later = self._lm(input_ids=rest[:, :-1], past_key_values=cache).logits if longest > 1 else None
        first = out.logits[:, -1:].float().expand(len(tails), 1, -1)
        logits = first if later is None else torch.cat([first, later.float()], dim=1)
        logprobs = torch.log_softmax(logits, dim=-1)
        scores = []
        for row, tail in enumerate(tails):
            picked = logprobs[row, torch.arange(len(tail)), torch.tensor(tail, device=self.device)]
            scores.append(float(picked.sum()))
        return scores

    def _generate(self, prompts: list[str], sampling: Sampling) -> list[str]:
        """Free completions of chat-templated ``prompts``, in input order (see :meth:`generate`)."""
        import torch

        tokenizer = self._tokenizer
        # The chat template already wrote the special tokens it wants.
        ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        # Longest first: rows of similar length waste little compute on padding, and a batch too large for
        # memory fails at once rather than at the end.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        config = copy.deepcopy(self._lm.generation_config)
        greedy = sampling.temperature == 0
        config.update(
            max_new_tokens=sampling.max_new_tokens,
            do_sample=not greedy,
            # Greedy ignores these; neutral values keep transformers from warning about them.
            temperature=1.0 if greedy else sampling.temperature,
            top_p=1.0 if greedy else sampling.top_p,
            # Sampling has no top-k. transformers' default of 50 would quietly make this backend sample
            # differently from vLLM and OpenAI-compatible servers; 0 turns it off.
            top_k=None if greedy else 0,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(sampling.seed)
        outputs: list[str] = [""] * len(ids)
        with quiet_transformers(), torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = tokenizer.pad(
                    {"input_ids": [ids[i] for i in rows]}, padding_side="left", return_tensors="pt"
                ).to(self.device)
                generated = self._lm.generate(**batch, generation_config=config)
                # Left padding puts every prompt's end at the same column: what follows is new tokens.
                new = generated[:, batch["input_ids"].shape[1] :]
                for i, text in zip(rows, tokenizer.batch_decode(new, skip_special_tokens=True)):
                    outputs[i] = text
        return outputs
