{#- A label dimension for one coded column: its codes with Danish and English labels and what
    they mean, from seeds/reference/code_labels.csv (one place for every label). -#}
{% macro label_dimension(dimension, key) -%}
select
    code::varchar as {{ key }},
    label_da,
    label_en,
    description,
    sort_order
from {{ ref('stg_reference__code_labels') }}
where dimension = '{{ dimension }}'
{%- endmacro %}
