locals {
  # Environment variable names of shared/config.py's secret settings; each is a secret of
  # the same name. Values are added outside Terraform (gcloud secrets versions add) so they
  # never reach the state file.
  secret_names = toset([
    "CONTROLROOM_API_TOKEN",
    "CONTROLROOM_WEBHOOK_SECRETS",
    "CONTROLROOM_LLM_OPENAI_API_KEY",
    "CONTROLROOM_LANGSMITH_API_KEY",
    "CONTROLROOM_STRIPE_API_KEY",
    "CONTROLROOM_SLACK_BOT_TOKEN",
    "CONTROLROOM_ZENDESK_API_TOKEN",
    "CONTROLROOM_TIKTOK_ACCESS_TOKEN",
    "CONTROLROOM_LINKEDIN_ACCESS_TOKEN",
    "CONTROLROOM_STATUS_TOKENS",
    "CONTROLROOM_STATUS_SESSION_SECRET",
    "CONTROLROOM_SMTP_PASSWORD",
    "CONTROLROOM_SENDGRID_API_KEY",
    "CONTROLROOM_MAILGUN_API_KEY",
    "CONTROLROOM_EMAIL_LINK_SECRET",
    "CONTROLROOM_PEOPLEDATALABS_API_KEY",
    "CONTROLROOM_GOOGLE_ADS_DEVELOPER_TOKEN",
    "CONTROLROOM_META_ACCESS_TOKEN",
    "CONTROLROOM_LINKEDIN_ADS_ACCESS_TOKEN",
  ])

  llm_secrets     = ["CONTROLROOM_LLM_OPENAI_API_KEY", "CONTROLROOM_LANGSMITH_API_KEY"]
  data_secrets    = ["CONTROLROOM_STRIPE_API_KEY"]
  channel_secrets = ["CONTROLROOM_SLACK_BOT_TOKEN", "CONTROLROOM_ZENDESK_API_TOKEN", "CONTROLROOM_TIKTOK_ACCESS_TOKEN", "CONTROLROOM_LINKEDIN_ACCESS_TOKEN"]
  email_secrets   = ["CONTROLROOM_SMTP_PASSWORD", "CONTROLROOM_SENDGRID_API_KEY", "CONTROLROOM_MAILGUN_API_KEY", "CONTROLROOM_EMAIL_LINK_SECRET"]
  ads_secrets     = ["CONTROLROOM_GOOGLE_ADS_DEVELOPER_TOKEN", "CONTROLROOM_META_ACCESS_TOKEN", "CONTROLROOM_LINKEDIN_ADS_ACCESS_TOKEN"]

  # Which secrets each function reads: agents call the LLM and read business data, the
  # support agent also replies on the vendors' channels, the marketing agent sends the
  # win-back emails, the leads agent enriches people, the ad manager calls the ad platforms, the supervisor announces finished runs on Slack, the sweeper re-indexes
  # the knowledge base (embeddings), webhooks and status check tokens and signatures.
  function_secret_needs = {
    for name, function in local.functions : name => distinct(concat(
      startswith(function.source, "functions/agents/") ? concat(local.llm_secrets, local.data_secrets) : [],
      function.source == "functions/agents/support" ? local.channel_secrets : [],
      function.source == "functions/agents/marketing" ? local.email_secrets : [],
      function.source == "functions/agents/leads" ? ["CONTROLROOM_PEOPLEDATALABS_API_KEY"] : [],
      function.source == "functions/agents/ads" ? local.ads_secrets : [],
      function.source == "functions/supervisor" ? ["CONTROLROOM_SLACK_BOT_TOKEN"] : [],
      function.entry_point == "on_sweep" ? local.llm_secrets : [],
      # webhooks also writes the content API's copy (POST /v1/content) with the LLM
      name == "webhooks" ? concat(["CONTROLROOM_API_TOKEN", "CONTROLROOM_WEBHOOK_SECRETS"], local.llm_secrets) : [],
      name == "status" ? ["CONTROLROOM_API_TOKEN", "CONTROLROOM_STATUS_TOKENS", "CONTROLROOM_STATUS_SESSION_SECRET", "CONTROLROOM_EMAIL_LINK_SECRET"] : [],
    ))
  }

  function_secret_bindings = {
    for pair in flatten([
      for name, secrets in local.function_secret_needs : [
        for secret in secrets : { function = name, secret = secret }
      ]
    ]) : "${pair.function}/${pair.secret}" => pair
  }

  # Mounted only once a version exists (see var.populated_secrets).
  function_mounted_secrets = {
    for name, secrets in local.function_secret_needs : name => [
      for secret in secrets : secret if contains(var.populated_secrets, secret)
    ]
  }
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secret_names

  secret_id = each.key
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}
