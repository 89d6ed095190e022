"""The process exit status of every way a run can end (the CLI and the window use these)."""

EXIT_OK = 0        # finished
EXIT_ERROR = 1     # an error during the run; what was produced before it is flushed
EXIT_USAGE = 2     # a usage, configuration or whole-input error; nothing was started
EXIT_SIGINT = 130  # stopped by Ctrl+C, after flushing every output
EXIT_SIGTERM = 143  # stopped by SIGTERM, after flushing every output
