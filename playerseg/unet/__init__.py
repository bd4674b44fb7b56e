"""The U-Net baseline's training (`python -m playerseg.unet train`): the seeds' direct PyTorch recipe on the finetune
pipeline's data reader, split and outputs. The network and its tracker live in playerseg.tracking (unet_net,
unet_tracker), where every contender runs. May import errors, io, tracking, finetune and progress_bars."""
