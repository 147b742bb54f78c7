{#- Each comparison group's average per indicator and year (main population group): the plain
    mean of its members' published values, with how many members had one. -#}
with peers as (
    select * from {{ ref('stg_reference__peer_groups') }}
),

values_by_member as (
    select * from {{ ref('int_indicator_values_trended') }}
)

select
    peers.peer_group_code,
    -- A group has one name: every member's row carries it.
    min(peers.peer_group_name_da) as peer_group_name_da,
    min(peers.peer_group_name_en) as peer_group_name_en,
    v.indicator_code,
    v.year,
    make_date(v.year, 1, 1) as year_start_date,
    -- As exact decimals: a sum of doubles depends on the order rows arrive in.
    avg(v.value::decimal(18, 6))::double precision as average_value,
    count(*)::integer as members,
    count(v.value)::integer as members_with_value
from peers
inner join values_by_member as v using (municipality_code)
group by peers.peer_group_code, v.indicator_code, v.year
