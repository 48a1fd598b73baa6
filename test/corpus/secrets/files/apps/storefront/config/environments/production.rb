Rails.application.configure do
  config.eager_load = true
  config.secret_key_base = "778ab59b94d3c509c0c7e9e5ccc7b303993a10a80aee89c3345157aa107df980b213d63b9de844c42dc0783c3533ef8e030c10fb911a3c0142d30cf10e80ca1f"
  config.action_mailer.smtp_settings = {
    address: "smtp.sendgrid.net",
    user_name: "apikey",
    password: "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",
    port: 587
  }
end
