{#- Use the configured schema name as is (staging, marts, ...), not dbt's default
    "<target schema>_<custom schema>", so BI tools see plain schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
