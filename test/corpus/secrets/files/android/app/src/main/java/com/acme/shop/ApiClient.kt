package com.acme.shop

object ApiClient {
    private const val BASE_URL = "https://api.acme-corp.net/"
    private const val API_KEY = "WixFztow882N89HRJRbJAPM7oEn7GAmbgvKpVVvP"
    private val tokenStore = TokenStore(context)
    fun authHeader(token: String) = "Bearer $token"
}
