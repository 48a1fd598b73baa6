import requests

JIRA = "https://acme.atlassian.net"
AUTH = ("release-bot@acme-corp.net", "ATATT3xFfGF0oax04_5HiXyaVoyc6IX_FHlMXhn7zMPN0Fda0lBcJpDcw-r_TPCpO8CV2cJnYyVB1cnrcs6MaoIcrOlPpZHFB1VxXkA-PtqoTBevdGiijHzvAcptttmZn6IBeOLt5hWON1NaYiPNcVVj2tzj8pIloVh_fesMYmYBOzh0CElLXHU7KMrdj_ApAUW=33W4QRUS")
requests.post(f"{JIRA}/rest/api/3/version", auth=AUTH, json={"name": "2024.06"})
