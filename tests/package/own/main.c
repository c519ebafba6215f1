/*
 * The package test app on the project's own startup: comb's runtime only.
 * With the SWO transport the project programs the trace hardware itself
 * (comb_swo_init) once its clock runs; the transport provides the
 * timestamp. With the UART transport it would provide comb_port_uart_tx and
 * comb_trace_timestamp (docs/integration.md).
 */
#include "comb/heap.h"
#include "comb/log.h"
#include "comb/swo.h"
#include "comb/trace.h"

#define CORE_HZ 16000000u /* the reset clock of the STM32F4 this stands for */

int main(void)
{
    if (comb_swo_init(CORE_HZ, 2000000u) != COMB_SWO_OK)
        return 1;
    comb_trace_session_start(CORE_HZ, CORE_HZ, 0u);
    void *p = comb_alloc(100);
    comb_printf("own startup: %p\n", p);
    comb_free(p);
    comb_trace_session_end();
    return comb_transport_flush() ? 0 : 1;
}
