ls -la
export AWS_ACCESS_KEY_ID=AKIA6AYF52DDDHJBSCMH
export AWS_SECRET_ACCESS_KEY=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
aws s3 ls s3://acme-backups/
mysql -h db.internal -u admin -p'Wky5Jln3O!1deDLo' billing
git clone https://oauth2:glpat-Oqw3ZG_wFZpJT6hqksYT@gitlab.com/acme/infra.git
history | grep password
vault login -method=userpass username=ops
kubectl get secret billing-db -o jsonpath='{.data.password}' | base64 -d
ssh-keygen -t ed25519 -C deploy@jumpbox
