"""PlayerSeg web app (Hugging Face Spaces runs this file): wiring only, the tabs live in playerseg/ui/.

python app.py                      # serves on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 127.0.0.1:7860)
PLAYERSEG_MODELS=test-sam2.1-tiny-128,test-sam2.1-tiny-256 python app.py   # random-weight test models, CPU
"""

from playerseg.ui.app import build_app, launch_kwargs
from playerseg.ui.config import AppConfig

config = AppConfig.from_env()
demo = build_app(config).queue(default_concurrency_limit=config.gpu_concurrency)

if __name__ == "__main__":
    demo.launch(**launch_kwargs(config))
