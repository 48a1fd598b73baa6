from telegram.ext import Application

BOT_TOKEN = "2282845867:AA56SQA_I-vjmx5Esl2cg2AhwJz-Pl4iyZr"

app = Application.builder().token(BOT_TOKEN).build()
