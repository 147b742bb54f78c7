{#- The whole country's published values (000 Hele landet), per indicator, year and group:
    kept apart from the municipalities so that totals are never counted twice. -#}
with indicator_values as (
    select * from {{ ref('int_indicator_values_current') }}
),

municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
)

select
    v.indicator_code,
    v.year,
    make_date(v.year, 1, 1) as year_start_date,
    v.population_group,
    indicators.unit,
    v.value,
    v.is_suppressed,
    v.suppression_marker,
    v.year = max(v.year) over (partition by v.indicator_code, v.population_group)
        as is_latest_year,
    v.source_load_id
from indicator_values as v
inner join municipalities using (municipality_code)
inner join {{ ref('stg_reference__indicators') }} as indicators using (indicator_code)
where municipalities.is_country
