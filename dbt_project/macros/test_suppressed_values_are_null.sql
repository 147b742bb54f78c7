{#- A suppressed cell must carry no value, and an unsuppressed one must carry a value. -#}
{% test suppressed_values_are_null(model) %}
select *
from {{ model }}
where (is_suppressed and value is not null)
   or (not is_suppressed and value is null)
{% endtest %}
