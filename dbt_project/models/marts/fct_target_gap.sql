{#- Where each of the 98 municipalities stands against its target, per indicator and year, for
    the indicator's main population group: the status and the barometer's verdict
    (int_target_statuses holds the rules), with the country's value beside it. -#}
with statuses as (
    select * from {{ ref('int_target_statuses') }}
),

municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
)

select
    statuses.indicator_code,
    statuses.municipality_code,
    statuses.year,
    make_date(statuses.year, 1, 1) as year_start_date,
    indicators.unit,
    statuses.value,
    statuses.national_value,
    statuses.target_value,
    statuses.target_year,
    statuses.target_kind,
    statuses.gap_to_target,
    statuses.trend_per_year,
    statuses.projected_year_reaching_target,
    statuses.status,
    statuses.baseline_year,
    statuses.baseline_value,
    statuses.development,
    statuses.year = max(statuses.year) over (
        partition by statuses.indicator_code, statuses.municipality_code
    ) as is_latest_year
from statuses
inner join municipalities using (municipality_code)
inner join {{ ref('stg_reference__indicators') }} as indicators using (indicator_code)
where not municipalities.is_country
