import stripe

stripe.api_key = "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"
WEBHOOK_SECRET = "whsec_wIyHNvEz5UEZuLzsOkj7OhwVeSokEZfe"


def parse_event(payload: bytes, sig_header: str):
    return stripe.Webhook.construct_event(payload, sig_header, WEBHOOK_SECRET)


def charge(customer_id: str, amount: int, idempotency_key: str):
    token = stripe.Token.retrieve(customer_id)
    return stripe.PaymentIntent.create(customer=customer_id, amount=amount, currency="eur",
                                       idempotency_key=idempotency_key)
