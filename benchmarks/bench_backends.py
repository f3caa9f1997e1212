"""Throughput of the LLM backends on the same VowelPrompt-style prompts: transformers, our vLLM backend, and
vLLM's own ``LLM.chat`` without our layer (on the very same engine), so our overhead shows.

    python benchmarks/bench_backends.py [--n 32] [--max-new-tokens 64] [--conversations chats.jsonl]

Run it in the environment of ``scripts/vllm_env.sh``. Decoding is greedy with ``max_new_tokens`` 64 (a
short ``<think>`` and the answer). Unless ``--conversations`` gives a JSONL file (one conversation, a list
of messages, per line), the prompts are the shipped ``vowelprompt_context`` template filled with a few
dialogue turns and one paper-style sentence per vowel, built deterministically so every run and every
backend sees the same text: 300-600 prompt tokens each, as real VowelPrompt prompts.

Each timing is the best of ``--repeats`` runs after one warm-up batch (the first batch pays for lazy
initialisation). "utt/s" is conversations per second; "tok/s" counts generated tokens. Greedy outputs of
float32 vLLM and transformers are compared as a check that the two backends compute the same thing.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time

from vowelprompt.backends import Sampling, Structure
from vowelprompt.labels import get_label_set
from vowelprompt.prompts import load_template, output_structure

SCRIPT = (
    "well I really thought we were going to finish the project before the deadline but nobody answered my "
    "emails and now the client is calling every hour asking where the report is and I have no idea what to "
    "tell them honestly it is not my fault"
)
WORDS = SCRIPT.split()
VOWELS = ("æ", "ɪ", "ʊ", "ɛ", "ə", "i", "u", "ɑ", "ɔ", "eɪ", "aɪ", "oʊ")
LEVELS = ("very low", "low", "moderate", "high", "very high")
SLOPES = ("falling", "flat", "rising")
DURATIONS = ("very short", "short", "medium", "long", "very long")


def phrase(rng: random.Random, shortest: int, longest: int) -> list[str]:
    size = rng.randint(shortest, longest)
    start = rng.randrange(len(WORDS) - size)
    return WORDS[start : start + size]


def filler_conversations(n: int, seed: int = 0) -> list[list[dict[str, str]]]:
    """``n`` VowelPrompt-style conversations of varying length (the real template, filler contents)."""
    rng = random.Random(seed)
    template = load_template("vowelprompt_context")
    labels = get_label_set("iemocap4")
    chats = []
    for i in range(n):
        words = phrase(rng, 3, 10)
        sentences = []
        for word in words:
            sentences.append(
                f'The vowel /{rng.choice(VOWELS)}/ in "{word}" has a {rng.choice(SLOPES)} pitch slope, '
                f"{rng.choice(LEVELS)} pitch with {rng.choice(LEVELS)} variation, {rng.choice(LEVELS)} "
                f"intensity with {rng.choice(LEVELS)} variation, and {rng.choice(DURATIONS)} duration."
            )
        context = "\n".join(
            f'Speaker_{t % 2}: "{" ".join(phrase(rng, 5, 12))}"' for t in range(rng.randint(0, 4))
        )
        variables = {
            "transcript": " ".join(words),
            "vowel_descriptions": "\n".join(sentences),
            "labels": ", ".join(labels.labels),
            "output_instructions": "Think step by step, then answer in exactly this format: "
            "<think>your reasoning</think><answer>one label from the list</answer>",
            "context": context or "(no earlier turns)",
            "speaker": f"Speaker_{i % 2}",
        }
        chats.append(template.render({v: variables[v] for v in template.variables}))
    return chats


def best_time(run, repeats: int) -> tuple[float, list[str]]:
    times, out = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), out


def time_transformers(args, chats, sampling) -> tuple[float, list[str]]:
    from vowelprompt.backends.transformers import TransformersBackend

    backend = TransformersBackend(args.model, batch_size=args.hf_batch_size)
    backend.generate(chats[:2], sampling)  # warm-up
    return best_time(lambda: backend.generate(chats, sampling), args.repeats)


def time_vllm(args, chats, sampling) -> dict[str, tuple[float, list[str]]]:
    from vllm import SamplingParams

    from vowelprompt.backends.vllm import VLLMBackend

    rows = {}
    ours = VLLMBackend(args.model)
    ours.generate(chats[:2], sampling)  # warm-up
    # The same engine, called directly: what our layer adds is the difference.
    raw_params = SamplingParams(temperature=0.0, max_tokens=args.max_new_tokens, seed=0)

    def raw():
        return [o.outputs[0].text for o in ours._llm.chat(chats, raw_params, use_tqdm=False)]

    def wrapped():
        return ours.generate(chats, sampling)

    for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
        for name, run in (("vLLM (ours)", wrapped), ("vLLM (raw LLM.chat)", raw)):
            seconds, out = best_time(run, 1)
            if name not in rows or seconds < rows[name][0]:
                rows[name] = (seconds, out)
    regex = output_structure(get_label_set("iemocap4")).regex
    bounded = Structure(regex=regex.replace("[^<]*", "[^<]{0,120}"))  # the answer must fit in the budget
    rows["vLLM (ours) + regex"] = best_time(lambda: ours.generate(chats, sampling, bounded), args.repeats)
    if args.bfloat16:
        del ours
        gc.collect()  # shuts the float32 engine down before the next one starts
        half = VLLMBackend(args.model, dtype="bfloat16")
        half.generate(chats[:2], sampling)
        rows["vLLM (ours) bfloat16"] = best_time(lambda: half.generate(chats, sampling), args.repeats)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="number of conversations (32)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--conversations", help="JSONL file, one conversation (list of messages) a line")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--hf-batch-size", type=int, default=8, help="transformers batch size (8)")
    parser.add_argument("--bfloat16", action="store_true", help="also time vLLM in bfloat16")
    parser.add_argument("--no-transformers", action="store_true", help="time the vLLM rows only")
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from vowelprompt.models import resolve_model

    if args.conversations:
        with open(args.conversations, encoding="utf-8") as f:
            chats = [json.loads(line) for line in f if line.strip()][: args.n]
    else:
        chats = filler_conversations(args.n)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(args.model))
    prompt_tokens = [
        len(tokenizer.apply_chat_template(c, add_generation_prompt=True, return_dict=True)["input_ids"])
        for c in chats
    ]
    sampling = Sampling(max_new_tokens=args.max_new_tokens)
    rows: dict[str, tuple[float, list[str]]] = {}

    if not args.no_transformers:
        rows["transformers"] = time_transformers(args, chats, sampling)
    rows.update(time_vllm(args, chats, sampling))

    n = len(chats)
    print(
        f"{n} conversations, prompt tokens mean {sum(prompt_tokens) / n:.0f} "
        f"(min {min(prompt_tokens)}, max {max(prompt_tokens)}), greedy, max_new_tokens {args.max_new_tokens}, "
        f"model {args.model}\n"
    )
    reference = rows.get("transformers", rows["vLLM (ours)"])[1]
    print("| backend | utt/s | generated tok/s | seconds | outputs identical to the first row's |")
    print("|---|---:|---:|---:|---:|")
    figures = {}
    for name, (seconds, out) in rows.items():
        generated = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in out)
        same = sum(a == b for a, b in zip(reference, out))
        figures[name] = {"utt_per_s": n / seconds, "tok_per_s": generated / seconds, "seconds": seconds}
        print(f"| {name} | {n / seconds:.2f} | {generated / seconds:.0f} | {seconds:.2f} | {same}/{n} |")
    speed = {name: f["utt_per_s"] for name, f in figures.items()}
    print(f"\nours / raw vLLM: {speed['vLLM (ours)'] / speed['vLLM (raw LLM.chat)']:.3f}")
    if "transformers" in speed:
        print(f"vLLM (ours) / transformers: {speed['vLLM (ours)'] / speed['transformers']:.2f}")
    return figures


if __name__ == "__main__":  # vLLM starts its engine with spawn: see vowelprompt/backends/vllm.py
    main()
