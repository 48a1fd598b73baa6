resource_group_name  = "tfstate"
storage_account_name = "acmetfstate"
container_name       = "state"
access_key           = "Fod9LMLV3XsEWKv2a2vEGlnDXNq530vTpJM7nonsWymZOrX7g0MeinaR0z85xSQZZrdmt5UxeL+zlkSeR/gjEE=="
