// `node --import` this to register ui-sdk-hooks.js (ui-launch's check that demo never loads the AWS SDK).
import {register} from 'node:module';

register(new URL('ui-sdk-hooks.js', import.meta.url));
