environment = "prod"
db_password = "Pwsp1uNLY~oz-5CIu2pa"
datadog_api_key = "be18522f876b3dc7d02fa2f2240f590c"
