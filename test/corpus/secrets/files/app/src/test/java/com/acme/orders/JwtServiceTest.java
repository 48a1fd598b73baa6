package com.acme.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JwtServiceTest {
    private static final String SECRET = "your-256-bit-secret";
    private static final String TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    @org.junit.jupiter.api.Test
    void parsesSubject() {
        assertEquals("1234567890", new JwtService(SECRET).subject(TOKEN));
    }
}
