export {App, type AppProps, type Controller} from './App.js';
export {Dashboard, type DashboardProps, type Panel} from './components/Dashboard.js';
export {runDashboard, dashboardSupported, type DashboardOptions} from './run.js';
export {makeTheme, colourWanted, ThemeContext, type Theme} from './theme.js';
export {createTicker, manualClock, type Clock, type Ticker} from './ticker.js';
export {bindings, matchKey, keyBarItems, activeBindings, type UiCommand, type KeyContext} from './keymap.js';
