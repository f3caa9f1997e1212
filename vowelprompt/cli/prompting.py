"""The prompt options, declared once for the two verbs that build prompts (``predict`` and
``build-dataset``), and the prompt configuration they describe."""

from __future__ import annotations


def add_prompt_options(parser):
    """Add the ``prompt`` option group to ``parser`` and return it (a verb adds its own prompt options)."""
    from vowelprompt.labels import LABEL_SETS
    from vowelprompt.prompts import builtin_templates
    from vowelprompt.verbalize import VOWEL_STYLES

    prompt = parser.add_argument_group("prompt")
    prompt.add_argument(
        "--template", default="vowelprompt", help=f"{', '.join(builtin_templates())}, or a .yaml file"
    )
    prompt.add_argument("--labels", default="iemocap4", help=f"{', '.join(LABEL_SETS)}, or a,b,c")
    prompt.add_argument(
        "--context-window",
        type=int,
        default=12,
        metavar="N",
        help="preceding turns for *_context templates",
    )
    prompt.add_argument("--style", choices=VOWEL_STYLES, default="paper", help="style of the per-vowel lines")
    prompt.add_argument(
        "--task",
        choices=["label", "blend", "dimensions"],
        default="label",
        help="what to ask: one label, a blend of up to two with their salience (70/30, 50/50), or "
        "valence/arousal/dominance ratings (a shipped template X asks for them as X_dimensions)",
    )
    prompt.add_argument(
        "--scale",
        default="1-5",
        metavar="LOW-HIGH",
        help="rating scale of --task dimensions (MSP-Podcast: 1-7)",
    )
    return prompt


def prompt_config(args, config_type, **fields):
    """The prompt configuration of ``config_type`` (:class:`~vowelprompt.prompts.PromptConfig` or a
    subclass) that the options of :func:`add_prompt_options` describe, with ``fields`` (a verb's own
    options) added. The template and label set are resolved here, once: a bad one fails before any model
    is loaded."""
    return config_type(
        template=args.template,
        labels=args.labels,
        context_window=args.context_window,
        style=args.style,
        task=args.task,
        scale=args.scale,
        **fields,
    )
