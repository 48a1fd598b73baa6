MODEL = "claude-3-5-sonnet-latest"
MAX_TOKENS = 4096
ANTHROPIC_API_KEY = "sk-ant-api03-dSRlQS5eqqm7REnn3UGOa_qabWQ_I5FtViICvcfkM16_hZbNDS9O2iVSwMssEHWkeabpRCnqMJGpzBwUGHuLYVzFP_UZWAA"
OPENAI_API_KEY = "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"
max_tokens_to_sample = 1024
stop_token = "\n\nHuman:"
