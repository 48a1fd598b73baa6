package com.acme.orders.config;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Configuration;

@Configuration
public class PaymentConfig {
    @Value("${payment.api-key}")
    private String apiKey;

    private static final String API_KEY_HEADER = "X-Api-Key";
    private static final String PAYPAL_CLIENT_SECRET = "hYCEmJB59uB0hcLwA81ZwXXX2vNXirtX5vKzCg__eDrlvDeldUlwf6QNyldV4PyYGSII14T-JFvXkgRF";

    String dbPassword() {
        String password = System.getenv("DB_PASSWORD");
        if (password == null || password.isEmpty()) {
            throw new IllegalStateException("DB_PASSWORD is not set");
        }
        return password;
    }

    char[] keystorePassword = "changeit".toCharArray();
}
