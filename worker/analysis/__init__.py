"""Pure analyses of trained endpoints: functions of tensors and callables, no celery, no client."""
