const { Client, GatewayIntentBits } = require('discord.js');

const client = new Client({ intents: [GatewayIntentBits.Guilds] });
const TOKEN = 'MJdVW1YxZBijX42QHWecg9aPbc.Pli9dG.z39Gfue2phKCv8o_1zWD1426oZpMmW9x_K3tbt';
const ALERT_WEBHOOK = 'https://discord.com/api/webhooks/5547469812567190782/lLuv9A5oYkxDMGHXzXdmfplbv8K4lwaC5AKmt9jDrGvIPSLPDAZII315OKT7b2OVZYwe';

client.login(process.env.DISCORD_TOKEN ?? TOKEN);
