locals {
  # Declared once in shared/topology.py; `controlroom topology` writes this file.
  topology = jsondecode(file("${path.module}/topology.json"))

  topics        = { for topic in local.topology.topics : topic.name => topic }
  subscriptions = { for subscription in local.topology.subscriptions : subscription.name => subscription }
  functions     = { for function in local.topology.functions : function.name => function }
  schedules     = { for schedule in local.topology.schedules : schedule.name => schedule }

  pubsub_functions = { for name, function in local.functions : name => function if function.trigger == "pubsub" }
  http_functions   = { for name, function in local.functions : name => function if function.trigger == "http" }

  push_subscriptions        = { for name, subscription in local.subscriptions : name => subscription if subscription.push_function != null }
  dead_letter_subscriptions = { for name, subscription in local.subscriptions : name => subscription if subscription.dead_letter_topic != null }
  dead_letter_topics        = toset([for subscription in local.dead_letter_subscriptions : subscription.dead_letter_topic])

  # One binding per (function, topic) pair of each function's publishes_to.
  function_publisher_bindings = {
    for pair in flatten([
      for name, function in local.functions : [
        for topic in function.publishes_to : { function = name, topic = topic }
      ]
    ]) : "${pair.function}/${pair.topic}" => pair
  }

  public_functions = {
    for name, function in local.http_functions : name => function
    if(name == "webhooks" && var.webhooks_public_access) || (name == "status" && var.status_public_access)
  }

  # `make bundle` writes dist/bundles/<function>.zip at the repository's root.
  bundles_dir = startswith(var.bundles_dir, "/") ? var.bundles_dir : "${path.module}/${var.bundles_dir}"

  labels = merge(var.labels, { app = "controlroom", environment = var.environment })
}
