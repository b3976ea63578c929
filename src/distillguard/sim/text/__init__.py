"""Text sources for DistillBench: real prompts (ShareGPT) and the generator's own grammars.

Nothing in here may be imported by `distillguard.detect`: a detector that saw these
vocabularies would be tuned to the simulator's strings, not to behaviour.
"""
