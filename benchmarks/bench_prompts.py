"""Prompt tokens per utterance for every shipped template (SmolLM2's tokenizer and chat template).

    python benchmarks/bench_prompts.py [--files 40]

The corpus is espeak-ng speech (2 voices × 2 rates × 10 sentences); consecutive utterances of a voice form
one dialogue so the ``*_context`` templates have up to 12 earlier turns, as in IEMOCAP/MELD conversations.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from dataclasses import replace

import numpy as np

from vowelprompt.corpora.synth import DEFAULT_SENTENCES, write_corpus
from vowelprompt.io import read_manifest
from vowelprompt.models import resolve_model
from vowelprompt.pipeline import iter_annotate
from vowelprompt.prompts import PromptConfig, builtin_templates, conversation, dialogues


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args(argv)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m"))
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_corpus(tmp, DEFAULT_SENTENCES, ("en-us+m1", "en-gb+f2"), (150, 220))
        items = read_manifest(manifest)[: args.files]
        rows = [r for r in iter_annotate(items) if r.ok]
    turns: dict[str, int] = defaultdict(int)
    numbered = []
    for r in rows:  # one dialogue per voice, turns in corpus order
        numbered.append(replace(r, dialogue=r.speaker, turn=turns[r.speaker]))
        turns[r.speaker] += 1
    rows = numbered
    groups = dialogues(rows)
    table = {}
    for name in builtin_templates():
        for style in ("paper", "compact") if name.startswith("vowelprompt") else ("paper",):
            config = PromptConfig(template=name, style=style)
            counts = []
            for r in rows:
                messages = conversation(r, config, groups)
                encoded = tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=True
                )
                counts.append(len(encoded["input_ids"]))
            key = name if style == "paper" else f"{name} (compact vowels)"
            table[key] = (float(np.mean(counts)), int(np.max(counts)))
    print(
        f"{len(rows)} utterances, {np.mean([len(r.vowels) for r in rows]):.1f} vowels each; SmolLM2 tokenizer\n"
    )
    print("| template | prompt tokens (mean) | max |")
    print("|---|---|---|")
    for key, (mean, most) in table.items():
        print(f"| {key} | {mean:.0f} | {most} |")
    return table


if __name__ == "__main__":
    main()
