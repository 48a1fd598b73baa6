// AI and machine-learning platform credentials: OpenAI, Anthropic, Hugging Face, Google AI, Groq, Mistral, xAI, …
import type { SecretRule } from '../rule.js';

/** A prefixed token in group 1, not followed by another character of `chars` (the body of a character class). */
function token(body: string, chars = 'A-Za-z0-9_-'): string {
  return String.raw`\b(${body})(?:[^${chars}]|$)`;
}

/**
 * A value assigned to a name: `name` (a regex holding one of the rule's keywords), up to 25 more identifier
 * characters, `=`, `:`, `:=` or `=>` (aligned with up to 30 spaces), optional quotes, then `value` in group 1, not
 * followed by a character of `chars`.
 */
function assigned(name: string, value: string, chars = 'A-Za-z0-9'): string {
  return String.raw`${name}[\w.-]{0,25}["']?\s{0,30}(?::=|=>|:|=)\s{0,5}["'\x60]?(${value})(?:[^${chars}]|$)`;
}

const PLACEHOLDERS = ['example', 'xxxxxx', 'placeholder', 'dummy', 'redacted'];

export const AI_RULES: readonly SecretRule[] = [
  // ── OpenAI ───────────────────────────────────────────────────────────────────────────────────────────
  {
    id: 'openai-project-key',
    description: 'OpenAI project API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['sk-proj-'],
    pattern: token('sk-proj-[A-Za-z0-9_-]{40,250}'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:openai', 'ai'],
    examples: {
      positive: [
        'OPENAI_API_KEY=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',
        'client = OpenAI(api_key="sk-proj-Xoi_ekOqxCx1awqmuyk6r19A4qGpXzmD9kjtP2kUUI3sOFuu")',
      ],
      negative: [
        'OPENAI_API_KEY=sk-proj-...',
        'OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        'OPENAI_API_KEY=sk-proj-ghYkOPxYbhlGqgWXWRzO',
      ],
    },
  },
  {
    id: 'openai-service-account-key',
    description: 'OpenAI service account API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['sk-svcacct-'],
    pattern: token('sk-svcacct-[A-Za-z0-9_-]{40,250}'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:openai', 'ai'],
    examples: {
      positive: [
        'OPENAI_API_KEY=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',
      ],
      negative: ['OPENAI_API_KEY=sk-svcacct-YfutXVdjRokQcHQhCnj5'],
    },
  },
  {
    id: 'openai-admin-key',
    description: 'OpenAI admin API key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['sk-admin-'],
    pattern: token('sk-admin-[A-Za-z0-9_-]{40,250}'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:openai', 'ai'],
    examples: {
      positive: [
        'OPENAI_ADMIN_KEY=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',
      ],
      negative: ['OPENAI_ADMIN_KEY=sk-admin-uN3xQCMiN6tpXkha7hXI'],
    },
  },
  {
    id: 'openai-api-key',
    description: 'OpenAI API key (T3BlbkFJ marker)',
    severity: 'high',
    confidence: 'high',
    keywords: ['t3blbkfj'],
    pattern: token('sk-[A-Za-z0-9_-]{20,160}T3BlbkFJ[A-Za-z0-9_-]{20,160}'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:openai', 'ai'],
    examples: {
      positive: [
        'openai.api_key = "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"',
        'OPENAI_API_KEY=sk-None-ZHkYt0CAOXzXzLA9outMT3BlbkFJNzziqSOL46l2jTLlHL5a',
      ],
      negative: [
        'openai.api_key = "sk-Hb5WkT4oj5OPudQIqotU89i8JoUXNMzkbqQkP80KDoavAZ3s"',
        'openai.api_key = "sk-H2rnaWwrpET3BlbkFJRGgh3pMEgw"',
      ],
    },
  },

  // ── Anthropic ────────────────────────────────────────────────────────────────────────────────────────
  {
    id: 'anthropic-api-key',
    description: 'Anthropic API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['sk-ant-api03-'],
    pattern: token('sk-ant-api03-[A-Za-z0-9_-]{93}AA'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:anthropic', 'ai'],
    examples: {
      positive: [
        'ANTHROPIC_API_KEY=sk-ant-api03-gCL2dpgqNA6Sio1gaxQfnhbeRkOPcnPjI89IYWRfb-rlBR_-3OHEZS2mWueq-5g4oJXQNpuSngu98vL_OUvuMyOOAwusZAA',
      ],
      negative: [
        'ANTHROPIC_API_KEY=sk-ant-api03-...',
        'ANTHROPIC_API_KEY=sk-ant-api03-8wLtNl9KaWOUVuWFfTx_CLwk480Q20DZ7lWXwvNgAA',
      ],
    },
  },
  {
    id: 'anthropic-admin-key',
    description: 'Anthropic Admin API key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['sk-ant-admin01-'],
    pattern: token('sk-ant-admin01-[A-Za-z0-9_-]{93}AA'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:anthropic', 'ai'],
    examples: {
      positive: [
        'ANTHROPIC_ADMIN_KEY=sk-ant-admin01-rRMKwLv9pZfOjvGgDWwoKkDx4oTGSBAz55YjyeFogKPDUwHFxs5Tfea1-wpzsol7HMqSFbhzBwlSegIgkezrCpqQRwt8cAA',
      ],
      negative: ['ANTHROPIC_ADMIN_KEY=sk-ant-admin01-3_tlT3GFPFLWxfoqhSZDf2q_lGbhz7muLEmic10sAA'],
    },
  },
  {
    id: 'anthropic-oauth-token',
    description: 'Anthropic (Claude Code) OAuth token',
    severity: 'high',
    confidence: 'high',
    keywords: ['sk-ant-oat01-'],
    pattern: token('sk-ant-oat01-[A-Za-z0-9_-]{90,110}'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:anthropic', 'ai'],
    examples: {
      positive: [
        'CLAUDE_CODE_OAUTH_TOKEN="sk-ant-oat01-k2lMA6g7vjZjyOX6RbIAgSxR9tXVKM7r34_LbRMrHAOrovVcl2cIXa7BdXkwpXFq7anwUPvMKeaHLHHGks5XobZX_x_4Mz0"',
      ],
      negative: ['CLAUDE_CODE_OAUTH_TOKEN="sk-ant-oat01-yktiL1u_3l3LN44xQ3IVmRbPL8oeezTg6-_nSw88"'],
    },
  },

  // ── Model hubs and inference providers ──────────────────────────────────────────────────────────────
  {
    id: 'huggingface-access-token',
    description: 'Hugging Face access token',
    severity: 'high',
    confidence: 'high',
    keywords: ['hf_'],
    pattern: token('hf_[A-Za-z0-9]{34}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:huggingface', 'ai'],
    examples: {
      positive: ['HF_TOKEN=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'],
      negative: ['HF_TOKEN=hf_ZdMdMJXfMjwjXxXrNLdW', 'path = hf_hub_download(repo_id="acme/model")'],
    },
  },
  {
    id: 'huggingface-org-token',
    description: 'Hugging Face organization API token',
    severity: 'high',
    confidence: 'high',
    keywords: ['api_org_'],
    pattern: token('api_org_[A-Za-z0-9]{34}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:huggingface', 'ai'],
    examples: {
      positive: ['HF_ORG_TOKEN=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'],
      negative: ['HF_ORG_TOKEN=api_org_CVIOSRjFjaGgLSuUDVWI'],
    },
  },
  {
    id: 'replicate-api-token',
    description: 'Replicate API token',
    severity: 'high',
    confidence: 'high',
    keywords: ['r8_'],
    pattern: token('r8_[A-Za-z0-9]{37}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:replicate', 'ai'],
    examples: {
      positive: ['REPLICATE_API_TOKEN=r8_fHPqolxQ2rZyvvygu9Lx21MUXkbBRFyFP3sO9'],
      negative: ['REPLICATE_API_TOKEN=r8_cqotPuETUogXIH7lP5nb'],
    },
  },
  {
    id: 'groq-api-key',
    description: 'Groq API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['gsk_'],
    pattern: token('gsk_[A-Za-z0-9]{48,52}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:groq', 'ai'],
    examples: {
      positive: ['GROQ_API_KEY=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'],
      negative: [
        'GROQ_API_KEY=gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        'GROQ_API_KEY=gsk_8DpLu5XzNB6DQJzvwZAIuF6Ur00yKg',
      ],
    },
  },
  {
    id: 'perplexity-api-key',
    description: 'Perplexity API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['pplx-'],
    pattern: token('pplx-[A-Za-z0-9]{48}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:perplexity', 'ai'],
    examples: {
      positive: ['PERPLEXITY_API_KEY=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'],
      negative: ['PERPLEXITY_API_KEY=pplx-jv9UoGuwsniyDL1j2nDdk0uBsKDi8W'],
    },
  },
  {
    id: 'xai-api-key',
    description: 'xAI (Grok) API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['xai-'],
    pattern: token('xai-[A-Za-z0-9]{80}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:xai', 'ai'],
    examples: {
      positive: [
        'XAI_API_KEY=xai-uMRAXjWyi7JtjtONXgXN0tY631YdQQCarOU3pIjjtPWNRyVLLw9VgpPn6260i60KHDFokQTq9ldxzRUH',
      ],
      negative: ['XAI_API_KEY=xai-FXZFWa30owDrgJIwv4UhdrdkrsXhF5XVjYtpXAIB'],
    },
  },
  {
    id: 'openrouter-api-key',
    description: 'OpenRouter API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['sk-or-v1-'],
    pattern: token('sk-or-v1-[a-f0-9]{64}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:openrouter', 'ai'],
    examples: {
      positive: [
        'OPENROUTER_API_KEY=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',
      ],
      negative: ['OPENROUTER_API_KEY=sk-or-v1-8abcd2458249e6ba6903d5fb8e7e9f2b8e9dec51'],
    },
  },
  {
    id: 'google-api-key',
    description: 'Google API key (Gemini, Maps, Firebase, …)',
    severity: 'high',
    confidence: 'high',
    keywords: ['aiza'],
    pattern: token('AIza[A-Za-z0-9_-]{35}'),
    secretGroups: [1],
    entropy: 3.5,
    // Firebase app configuration files ship with the app by design; their keys are restricted by app identity.
    allow: { paths: ['**/google-services.json', '**/GoogleService-Info.plist'] },
    tags: ['provider:google', 'ai', 'cloud'],
    examples: {
      positive: [
        'GEMINI_API_KEY=AIzaC3-tVK9qztM52F7wh4cbWMI2zPnWd1exfOP',
        '"apiKey": "AIzazb1FQfGOh70-UptQfLjReoeNHAVLfyKJ1ur"',
      ],
      negative: [
        'GEMINI_API_KEY=AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        'GEMINI_API_KEY=AIzaV6HNASExz2DuPG5eH46R',
      ],
    },
  },
  {
    id: 'nvidia-api-key',
    description: 'NVIDIA API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['nvapi-'],
    pattern: token('nvapi-[A-Za-z0-9_-]{40,100}'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:nvidia', 'ai'],
    examples: {
      positive: ['NVIDIA_API_KEY=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'],
      negative: ['NVIDIA_API_KEY=nvapi-rgV_2xTZYaLmsuR8p_ib'],
    },
  },
  {
    id: 'langsmith-api-key',
    description: 'LangSmith API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['lsv2_pt_', 'lsv2_sk_'],
    pattern: token('lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:langchain', 'ai'],
    examples: {
      positive: ['LANGSMITH_API_KEY=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'],
      negative: [
        'LANGCHAIN_API_KEY=ls__f27ed00204b92586e2929e751712e0cd',
        'LANGSMITH_API_KEY=lsv2_xx_ddbf9a11d7911ea892ac7ace23f7fad4_f09b050397',
      ],
    },
  },
  {
    id: 'pinecone-api-key',
    description: 'Pinecone API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['pcsk_'],
    pattern: token('pcsk_[A-Za-z0-9]{5,6}_[A-Za-z0-9]{55,70}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 4,
    tags: ['provider:pinecone', 'ai'],
    examples: {
      positive: [
        'PINECONE_API_KEY=pcsk_OXQQWv_eBKKAjFTiId2S97quzNWo95P5JaXlLIvQJdZJqRSB2ajDyRJRR6t0xEzQtScPWb',
      ],
      negative: ['PINECONE_API_KEY=pcsk_DTpkdz_wzDbTuXGssdDrhJYY9BA'],
    },
  },
  {
    id: 'wandb-api-key',
    description: 'Weights & Biases API key',
    severity: 'high',
    confidence: 'high',
    keywords: ['wandb_v1_'],
    pattern: token('wandb_v1_[A-Za-z0-9]{27}_[A-Za-z0-9]{49}', 'A-Za-z0-9'),
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:wandb', 'ai'],
    examples: {
      positive: [
        'WANDB_API_KEY=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',
      ],
      negative: ['WANDB_API_KEY=wandb_v1_Fj8oJwtVIT4fGFnIDwUqddBxSLd'],
    },
  },
  {
    id: 'wandb-api-key-legacy',
    description: 'Weights & Biases API key (40-character format)',
    severity: 'high',
    confidence: 'medium',
    keywords: ['wandb'],
    pattern: assigned(String.raw`wandb[\w.-]{0,20}(?:key|token)`, '[a-f0-9]{40}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:wandb', 'ai'],
    examples: {
      positive: ['WANDB_API_KEY=e9a6d2ae3c1cc11235ab38fe4a8663cffa9fc6f5'],
      negative: ['WANDB_API_KEY=${WANDB_KEY}', 'WANDB_PROJECT=acme-models'],
    },
  },

  // ── Providers recognised by context ─────────────────────────────────────────────────────────────────
  {
    id: 'azure-openai-api-key',
    description: 'Azure OpenAI / Azure AI services key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['azure'],
    pattern: assigned(
      String.raw`azure[\w.-]{0,20}(?:openai|cognitive|ai[_-]?services)[\w.-]{0,20}key`,
      '(?:[a-f0-9]{32}|[A-Za-z0-9]{84})',
    ),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:azure', 'ai'],
    examples: {
      positive: [
        'AZURE_OPENAI_API_KEY=aafe7d656fbd10b02a76182dbe40b010',
        'AZURE_OPENAI_KEY="4py2sk7kzhtiMQsuH6lnMGWv3YHZrHVaMpMcpzv3OM9dRnivU8psiAEio5QeIBBaFqReZmZGflVBaBJw5X6j"',
      ],
      negative: ['AZURE_OPENAI_ENDPOINT=https://acme.openai.azure.com/', 'AZURE_OPENAI_API_KEY=${AOAI_KEY}'],
    },
  },
  {
    id: 'cohere-api-key',
    description: 'Cohere API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['cohere', 'co_api_key'],
    pattern: assigned('(?:cohere|co_api_key)', '[A-Za-z0-9]{40}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3.5,
    allow: { stopwords: PLACEHOLDERS },
    tags: ['provider:cohere', 'ai'],
    examples: {
      positive: [
        'COHERE_API_KEY=Waov8gCmaoE1oYG84Wc450TrWlv6kKwJlN2Za8Pt',
        'CO_API_KEY="aadVtZ8J5GDWvIOQlytFq2f7joa8EdJXmew7PueE"',
      ],
      negative: ['COHERE_API_KEY=${COHERE_KEY}', 'COHERE_MODEL=command-r-plus'],
    },
  },
  {
    id: 'mistral-api-key',
    description: 'Mistral AI API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['mistral'],
    pattern: assigned(String.raw`mistral[\w.-]{0,20}(?:key|token)`, '[A-Za-z0-9]{32}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3.5,
    allow: { stopwords: PLACEHOLDERS },
    tags: ['provider:mistral', 'ai'],
    examples: {
      positive: ['MISTRAL_API_KEY=fgHDJpU3Z1a7HAEc5TK36D8GOlz3tajM'],
      negative: ['MISTRAL_API_KEY=${MISTRAL_KEY}', 'MISTRAL_MODEL=mistral-large-latest'],
    },
  },
  {
    id: 'deepseek-api-key',
    description: 'DeepSeek API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['deepseek'],
    pattern: assigned(String.raw`deepseek[\w.-]{0,20}(?:key|token)`, 'sk-[a-f0-9]{32}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:deepseek', 'ai'],
    examples: {
      positive: ['DEEPSEEK_API_KEY=sk-ef4be319cfa6113d335525634c5fcc94'],
      negative: ['DEEPSEEK_API_KEY=sk-c4125e99cc992e38'],
    },
  },
  {
    id: 'together-ai-api-key',
    description: 'Together AI API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['together'],
    pattern: assigned(String.raw`together[\w.-]{0,20}(?:key|token)`, '[a-f0-9]{64}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:together', 'ai'],
    examples: {
      positive: ['TOGETHER_API_KEY=fd51efdc4b06b6fb50b9426eeef0c937b8083fcb1fa8b0565624670e5f9c1c12'],
      negative: ['TOGETHER_API_KEY=10210d46d8f34d4a937da198601499e1'],
    },
  },
  {
    id: 'assemblyai-api-key',
    description: 'AssemblyAI API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['assemblyai', 'assembly_ai', 'assembly-ai'],
    pattern: assigned(String.raw`assembly[_-]?ai[\w.-]{0,20}(?:key|token)`, '[a-f0-9]{32}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:assemblyai', 'ai'],
    examples: {
      positive: ['ASSEMBLYAI_API_KEY=f1fbed5590e759c5691114490f19ab2f'],
      negative: ['ASSEMBLYAI_API_KEY=cda9b315b8fe46c62284'],
    },
  },
  {
    id: 'deepgram-api-key',
    description: 'Deepgram API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['deepgram'],
    pattern: assigned(String.raw`deepgram[\w.-]{0,20}(?:key|token)`, '[a-f0-9]{40}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:deepgram', 'ai'],
    examples: {
      positive: ['DEEPGRAM_API_KEY=e8de8a43285987faa5d78a6e807fdf08bee21d0d'],
      negative: ['DEEPGRAM_API_KEY=9f7ec8357bb938cd30fec727efd365bf'],
    },
  },
  {
    id: 'elevenlabs-api-key',
    description: 'ElevenLabs API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['elevenlabs', 'eleven_labs', 'eleven-labs', 'xi_api', 'xi-api'],
    pattern: assigned(
      String.raw`(?:elevenlabs|eleven[_-]labs|xi[_-]api)[\w.-]{0,20}key`,
      '(?:sk_)?[a-f0-9]{32,48}',
    ),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3,
    tags: ['provider:elevenlabs', 'ai'],
    examples: {
      positive: [
        'ELEVENLABS_API_KEY=sk_263d3ec5dce2d8e3e9970b31ca3a70418e3704d961d54f80',
        "headers = {'xi-api-key': '0b09fdf356664b065781976d7f0027f3'}",
      ],
      negative: ['ELEVENLABS_API_KEY=sk_173ff14bcc85004b1f5a'],
    },
  },
  {
    id: 'stability-ai-api-key',
    description: 'Stability AI API key',
    severity: 'high',
    confidence: 'medium',
    keywords: ['stability'],
    pattern: assigned(String.raw`stability[\w.-]{0,20}(?:key|token)`, 'sk-[A-Za-z0-9]{48}'),
    caseInsensitive: true,
    secretGroups: [1],
    entropy: 3.5,
    tags: ['provider:stability', 'ai'],
    examples: {
      positive: ['STABILITY_API_KEY=sk-3zAJ89LmqB1XByDzKBDZkdFmOls2zPFtPqCg7NbiowVVOMHN'],
      negative: ['STABILITY_API_KEY=sk-JgOqdJWQ7sjqCRoCe85g'],
    },
  },
];
