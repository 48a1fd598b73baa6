import os

from huggingface_hub import login
from transformers import AutoTokenizer

HF_TOKEN = "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"
login(token=HF_TOKEN)
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-3.1-8B")
tokenizer.pad_token = tokenizer.eos_token
pad_token = "[PAD]"
eos_token = "</s>"
max_token_length = 2048
os.environ["WANDB_PASSWORD"] = "d9*bYIQgenz8.y@Y"
