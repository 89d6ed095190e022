"""Where the project lives: configs, bundled data and the default log folder are found from here,
not from the current directory, so a run works the same from cron, a service or a shell."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "configuration"
DEFAULT_LOG_DIR = PROJECT_ROOT / "log"
DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"
