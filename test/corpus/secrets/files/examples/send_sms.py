from twilio.rest import Client

account_sid = "ACb9af0658d7ae838192e1d2086b5cd1ef"
auth_token = "3986d4a297ba27a2855cb8be5f9ec3e8"
client = Client(account_sid, auth_token)
client.messages.create(to="+15558675310", from_="+15017122661", body="Hello from Acme")
