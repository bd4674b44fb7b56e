"""The models trained here (`nano-generalist`, `nano-pitch`): their recipes, the build key, and the one build command
(`make models` = `python -m playerseg.nano build`). Where the weights live and how they are checked is
playerseg.tracking.nano_store; training is playerseg.finetune's one loop. May import errors, io, tracking, synthetic
and finetune."""
