"""Named evaluation protocols run end to end (``vowelprompt experiment CONFIG.yaml``): per fold, statistics
fitted on the training part, zero-shot predictions per template, optional SFT then GRPO with the recipes,
counterfactual controls, and a results table with the published numbers beside ours (docs/experiments.md)."""
