variable "db_password" {
  type      = string
  sensitive = true
  default   = ""
}

variable "datadog_api_key" {
  description = "API key for the Datadog provider"
  type        = string
}
