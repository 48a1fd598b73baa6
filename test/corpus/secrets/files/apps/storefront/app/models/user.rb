class User < ApplicationRecord
  has_secure_password
  validates :password, length: { minimum: 12 }, allow_nil: true
  PASSWORD_FORMAT = /\A(?=.*\d)(?=.*[a-z])(?=.*[A-Z])/x

  def generate_reset_token!
    self.reset_password_token = SecureRandom.urlsafe_base64(32)
    save!
  end
end
