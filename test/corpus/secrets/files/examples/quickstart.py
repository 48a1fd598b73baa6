"""Quick start for the Acme API client."""
import os

from acme import Client

client = Client(api_key="YOUR_API_KEY")
client = Client(api_key=os.environ["ACME_API_KEY"])
print(client.invoices.list(limit=5))
