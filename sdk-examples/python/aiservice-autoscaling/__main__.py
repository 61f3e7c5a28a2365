# A model service that scales on traffic: the operator keeps about 10 requests per second on
# each ready replica, between 1 and 8 replicas, reading the rate from Prometheus. The program
# owns the spec; the operator owns the replica count, so a later `pulumi up` or `pulumi
# preview` never fights it (the autoscaler's replica changes are not drift).
import pulumi
import pulumi_aiservice as aiservice

config = pulumi.Config()

llama = aiservice.AIService(
    "llama",
    metadata=aiservice.meta.v1.ObjectMetaArgs(
        name="llama",
        labels={"team": "ml-platform"},
    ),
    spec=aiservice.AIServiceSpecArgs(
        model_uri="s3://models/llama-3-8b",
        image="ghcr.io/example/model-server:1.4",
        port=8080,
        resources=aiservice.ModelResourcesArgs(cpu="2", memory="8Gi", gpu=1),
        env={"MAX_BATCH_SIZE": "16"},
        scaling=aiservice.ScalingArgs(
            mode=aiservice.ScalingMode.AUTO,
            min_replicas=1,
            max_replicas=8,
            target_requests_per_second=10,
            metric=aiservice.MetricArgs(
                prometheus=aiservice.PrometheusMetricArgs(
                    address=config.get("prometheus"),
                    # $NAME and $NAMESPACE are filled in by the operator.
                    query='sum(rate(http_requests_total{service="$NAME",namespace="$NAMESPACE"}[1m]))',
                ),
            ),
            behavior=aiservice.ScalingBehaviorArgs(
                # Scale down only after 2 minutes of lower traffic, at most half at a time.
                scale_down=aiservice.ScalingRulesArgs(
                    stabilization_window_seconds=120,
                    policies=[aiservice.ScalingPolicyArgs(type=aiservice.PolicyType.PERCENT, value=50, period_seconds=60)],
                ),
            ),
            # While Prometheus cannot be asked, run 2 replicas.
            fallback_replicas=2,
        ),
    ),
)

pulumi.export("name", llama.metadata["name"])
# What the operator reports: desired and ready replicas, requests per second, conditions.
pulumi.export("status", llama.status)
