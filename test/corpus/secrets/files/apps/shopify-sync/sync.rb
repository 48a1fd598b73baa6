require "shopify_api"

ShopifyAPI::Context.setup(
  api_key: "0f5be15e22663615f4f15dcb13da8ac2",
  api_secret_key: "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",
  host: "https://sync.acme-corp.net",
  scope: "read_products,write_inventory",
  is_embedded: false,
  api_version: "2024-04",
)
SESSION = ShopifyAPI::Auth::Session.new(shop: "acme.myshopify.com", access_token: "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")
