resource "aws_vpn_connection" "office" {
  customer_gateway_id   = aws_customer_gateway.office.id
  type                  = "ipsec.1"
  tunnel1_preshared_key = "J44v2_xvI_L_5OjjamZ3socS6tAe7oco"
}

resource "aws_ec2_client_vpn_endpoint" "client_vpn_endpoint" {
  server_certificate_arn = aws_acm_certificate.vpn.arn
}

output "client_vpn_endpoint_id" { value = aws_ec2_client_vpn_endpoint.client_vpn_endpoint.id }
