using System.Text.Json.Serialization;

namespace Acme.Notifications.Services;

public sealed class SlackNotifier
{
    private static readonly string SlackToken = "xoxb-21317924932-2495540419554-g6PLh1xKpHRpxaApwvhdkx6Q";
    public const string PasswordResetTokenPurpose = "ResetPassword";

    [JsonPropertyName("access_token")]
    public string AccessToken { get; set; } = string.Empty;

    public SlackNotifier(IConfiguration configuration)
    {
        var apiKey = configuration["SendGrid:ApiKey"];
    }
}
