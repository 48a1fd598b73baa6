import logging

SENSITIVE_KEYS = {"password", "token", "secret", "api_key", "authorization"}
PASSWORD_MASK = "********"


def scrub(record: dict) -> dict:
    for name in list(record):
        if name.lower() in SENSITIVE_KEYS:
            record[name] = PASSWORD_MASK
    return record


def log_refresh(user_id):
    logging.getLogger(__name__).info("Token refreshed for user %s", user_id)
